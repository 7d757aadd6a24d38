/**
 * Streams per second and time to first byte for a 21-chunk SSE stream at concurrency 1 and 50,
 * for every path (direct, nginx, ssh -R, relay+agent), measured in interleaved rounds so drift on
 * the shared machine hits all paths alike. Ratios are medians of the per-round ratios to direct.
 */
import { type Path, startCast } from '../cast.js';
import { type LoadResult, runLoad, warmUp } from '../load.js';
import { measureCpu } from '../proc-stats.js';
import type { Check, Table } from '../report.js';
import type { Scenario } from '../scenario.js';
import { fmt, median, signed } from '../stats.js';

type Series = { results: LoadResult[]; cpu: Record<string, number>; calls: Record<string, number> };

const CPU_GROUPS = ['client', 'bridge', 'entry', 'exit'] as const;
const HOPS = ['entry', 'exit'] as const;

export const throughput: Scenario = {
  id: 'throughput',
  about: 'concurrency 1 and 50, 21-chunk SSE stream: streams/s, TTFB, CPU per stream',
  async run(ctx) {
    const cast = await startCast({ scenario: 'throughput', bridgeArgs: ['--chunks', '21'] });
    try {
      const rows: string[][] = [];
      const cpuRows: string[][] = [];
      const checks: Check[] = [];
      for (const path of cast.paths) await warmUp(path);
      for (const concurrency of [1, 50]) {
        const series = new Map<Path, Series>(cast.paths.map((p) => [p, { results: [], cpu: {}, calls: {} }]));
        for (const path of cast.paths)
          await runLoad(path, { concurrency, durationMs: Math.min(2000, ctx.durationMs) }); // JIT, sockets
        for (let round = 0; round < ctx.rounds; round++) {
          for (const path of cast.paths) {
            const s = series.get(path)!;
            const { result, cpu, syscalls } = await measureCpu(path.cpu(), () =>
              runLoad(path, { concurrency, durationMs: ctx.durationMs }),
            );
            s.results.push(result);
            for (const [group, ms] of Object.entries(cpu)) s.cpu[group] = (s.cpu[group] ?? 0) + ms;
            for (const [group, n] of Object.entries(syscalls)) s.calls[group] = (s.calls[group] ?? 0) + n;
          }
        }
        const direct = series.get(cast.paths[0]!)!.results;
        for (const [path, { results, cpu, calls }] of series) {
          const ratio = median(results.map((r, i) => r.streamsPerSecond / direct[i]!.streamsPerSecond));
          const added = median(results.map((r, i) => r.ttfbP50 - direct[i]!.ttfbP50));
          const failed = results.reduce((n, r) => n + r.failed, 0);
          rows.push([
            `${path.name} c=${concurrency}`,
            fmt(median(results.map((r) => r.streamsPerSecond)), 0),
            fmt(ratio),
            fmt(median(results.map((r) => r.ttfbP50)), 3),
            path.name === 'direct' ? '' : signed(added, 3),
            fmt(median(results.map((r) => r.ttfbP99))),
            String(failed),
          ]);
          const streams = results.reduce((n, r) => n + r.completed + r.failed, 0);
          cpuRows.push([
            `${path.name} c=${concurrency}`,
            ...CPU_GROUPS.map((g) => (cpu[g] === undefined ? '' : fmt((1000 * cpu[g]) / streams, 0))),
            ...HOPS.map((g) => (calls[g] === undefined ? '' : fmt(calls[g] / streams, 1))),
          ]);
          if (path.name !== 'relay+agent') continue;
          if (concurrency === 50) checks.push({ target: 'ratio50', value: fmt(ratio), pass: ratio >= 0.75 });
          if (concurrency === 1) {
            checks.push({ target: 'ttfb1', value: `${signed(added, 3)} ms`, pass: added <= 0.3 });
          }
        }
      }
      const table: Table = {
        head: ['path', 'streams/s', '×direct', 'TTFB p50 ms', 'added', 'TTFB p99 ms', 'failed'],
        rows,
      };
      const cpuTable: Table = {
        head: [
          'per stream',
          'client µs',
          'bridge µs',
          'entry µs',
          'exit µs',
          'entry syscalls',
          'exit syscalls',
        ],
        rows: cpuRows,
      };
      return {
        id: 'throughput',
        title: 'Throughput and TTFB (21-chunk SSE stream)',
        blocks: [
          ...cast.skipped,
          `median of ${ctx.rounds} interleaved rounds × ${ctx.durationMs / 1000} s per path; ×direct and added TTFB are medians of per-round differences`,
          table,
          "CPU per stream by process, and the hops' read+write system calls per stream; entry: the process the consumer connects to (relay, nginx, sshd), exit: the one that dials the bridge (agent, ssh)",
          cpuTable,
        ],
        checks,
      };
    } finally {
      await cast.stop();
    }
  },
};

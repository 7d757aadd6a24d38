/**
 * Streams per second and time to first byte for a 21-chunk SSE stream at concurrency 1 and 50,
 * for every path (direct, nginx, ssh -R, relay+agent), measured in interleaved rounds so drift on
 * the shared machine hits all paths alike. Ratios are medians of the per-round ratios to direct.
 * After the rounds of each concurrency, instrumented windows on relay+agent alone: bytes
 * allocated per chunk (c=50) and CPU by phase (c=1 and c=50); they never overlap a measured round.
 */
import { type Path, startCast } from '../cast.js';
import {
  type Allocation,
  allocationFacts,
  allocationTable,
  allocationValue,
  measureAllocation,
  PHASE_NOTE,
  type PhaseColumn,
  phaseFacts,
  phaseTable,
  profilePhases,
} from '../instrumented.js';
import { type LoadResult, runLoad, warmUp } from '../load.js';
import { measureCpu } from '../proc-stats.js';
import type { Check, Table } from '../report.js';
import type { Scenario } from '../scenario.js';
import { fmt, median, signed } from '../stats.js';

type Series = { results: LoadResult[]; cpu: Record<string, number>; calls: Record<string, number> };
/** One path's headline figures at one concurrency: ×direct, added TTFB p50 (ms), hop µs per stream. */
type Figures = { ratio: number; added: number; entry: number; exit: number };

const CHUNKS = 21;
const CPU_GROUPS = ['client', 'bridge', 'entry', 'exit'] as const;
const HOPS = ['entry', 'exit'] as const;
const ALLOC_LIMIT = 1000;

const noSsh = ' (no ssh -R baseline in this run)';

/** The targets this scenario checks, from relay+agent's and ssh -R's figures of the same run. */
function targetChecks(at1: Map<string, Figures>, at50: Map<string, Figures>, alloc?: Allocation): Check[] {
  const checks: Check[] = [];
  const relay50 = at50.get('relay+agent');
  const ssh50 = at50.get('ssh -R');
  if (relay50) {
    const { ratio } = relay50;
    const stretch = ratio >= 0.75 ? 'stretch 0.75 met' : 'stretch 0.75 not met';
    checks.push({
      target: 'ratio50',
      value: `${fmt(ratio)}${ssh50 ? ` (ssh -R ${fmt(ssh50.ratio)}; ${stretch})` : noSsh}`,
      pass: !!ssh50 && ratio > ssh50.ratio && ratio >= 0.65,
    });
    const hops = relay50.entry + relay50.exit;
    const sshHops = ssh50 ? ssh50.entry + ssh50.exit : Number.NaN;
    checks.push({
      target: 'cpu50',
      value: `${fmt(relay50.entry, 0)} + ${fmt(relay50.exit, 0)} = ${fmt(hops, 0)} µs${
        ssh50 ? ` (ssh -R ${fmt(ssh50.entry, 0)} + ${fmt(ssh50.exit, 0)} = ${fmt(sshHops, 0)} µs)` : noSsh
      }`,
      pass: !!ssh50 && hops <= sshHops,
    });
  }
  const relay1 = at1.get('relay+agent');
  const ssh1 = at1.get('ssh -R');
  if (relay1) {
    checks.push({
      target: 'ttfb1',
      value: `${signed(relay1.added, 3)} ms${ssh1 ? ` (ssh -R ${signed(ssh1.added, 3)} ms)` : noSsh}`,
      pass: !!ssh1 && relay1.added <= ssh1.added,
    });
  }
  if (alloc) {
    checks.push({
      target: 'alloc50',
      value: allocationValue(alloc),
      pass: Math.max(alloc.relayBytes, alloc.agentBytes) / alloc.chunks <= ALLOC_LIMIT,
    });
  }
  return checks;
}

export const throughput: Scenario = {
  id: 'throughput',
  about: 'concurrency 1 and 50, 21-chunk SSE stream: streams/s, TTFB, CPU per stream, allocation, phases',
  async run(ctx) {
    const cast = await startCast({ scenario: 'throughput', bridgeArgs: ['--chunks', String(CHUNKS)] });
    try {
      const rows: string[][] = [];
      const cpuRows: string[][] = [];
      const facts: Record<string, number> = {};
      const figures = new Map<number, Map<string, Figures>>();
      const phases: PhaseColumn[] = [];
      let alloc: Allocation | undefined;
      const relayPath = cast.paths.find((p) => p.name === 'relay+agent')!;
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
        const at = new Map<string, Figures>();
        figures.set(concurrency, at);
        for (const [path, { results, cpu, calls }] of series) {
          const ratio = median(results.map((r, i) => r.streamsPerSecond / direct[i]!.streamsPerSecond));
          const added = median(results.map((r, i) => r.ttfbP50 - direct[i]!.ttfbP50));
          const failed = results.reduce((n, r) => n + r.failed, 0);
          const streams = results.reduce((n, r) => n + r.completed + r.failed, 0);
          const perStream = (g: string) => (cpu[g] === undefined ? Number.NaN : (1000 * cpu[g]) / streams);
          const row = `${path.name} c=${concurrency}`;
          rows.push([
            row,
            fmt(median(results.map((r) => r.streamsPerSecond)), 0),
            fmt(ratio),
            fmt(median(results.map((r) => r.ttfbP50)), 3),
            path.name === 'direct' ? '' : signed(added, 3),
            fmt(median(results.map((r) => r.ttfbP99))),
            String(failed),
          ]);
          cpuRows.push([
            row,
            ...CPU_GROUPS.map((g) => (cpu[g] === undefined ? '' : fmt(perStream(g), 0))),
            ...HOPS.map((g) => (calls[g] === undefined ? '' : fmt(calls[g] / streams, 1))),
          ]);
          at.set(path.name, { ratio, added, entry: perStream('entry'), exit: perStream('exit') });
          facts[`ratio.${row}`] = ratio;
          facts[`added.${row}`] = added;
          for (const g of CPU_GROUPS) facts[`cpu.${row}.${g}`] = perStream(g);
        }
        // Instrumented windows, relay+agent alone, after every measured round of this concurrency.
        const load = () => runLoad(relayPath, { concurrency, durationMs: ctx.durationMs });
        if (concurrency === 50)
          alloc = await measureAllocation(cast, load, (r) => ({
            chunks: r.completed * CHUNKS,
            streams: r.completed,
          }));
        const profiled = await profilePhases(cast, `c=${concurrency}`, load, (r) => r.completed);
        phases.unshift(profiled.relay, profiled.agent);
      }
      if (alloc) Object.assign(facts, allocationFacts('c=50', alloc));
      Object.assign(facts, phaseFacts(phases));
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
      const window = `${ctx.durationMs / 1000} s`;
      return {
        id: 'throughput',
        title: 'Throughput and TTFB (21-chunk SSE stream)',
        blocks: [
          ...cast.skipped,
          `median of ${ctx.rounds} interleaved rounds × ${window} per path; ×direct and added TTFB are medians of per-round differences`,
          table,
          "CPU per stream by process, and the hops' read+write system calls per stream; entry: the process the consumer connects to (relay, nginx, sshd), exit: the one that dials the bridge (agent, ssh)",
          cpuTable,
          ...(alloc
            ? [
                `bytes allocated on the V8 heaps of relay and agent in one ${window} window at c=50 after the rounds (heap in use at the end − at the start + what each GC in between freed, read over the inspector; Buffer contents off the heap not counted; split by phase in the proportions of an allocation sample taken in the same window, one per 8 KiB; GC pauses as v8.GCProfiler reports them, the sampler running); a stream's open and close included, ${CHUNKS} chunks per stream`,
                allocationTable('c=50', alloc),
              ]
            : []),
          `CPU by phase: relay and agent profiled over the inspector (a sample every 500 µs) in one ${window} window per concurrency after the rounds; each sample goes to the phase of the nearest function that names one (bench/phases.ts), and the shares are scaled to the CPU the process used in that window (profiling included, so a little above the CPU table)`,
          phaseTable(phases),
          PHASE_NOTE,
        ],
        checks: targetChecks(figures.get(1)!, figures.get(50)!, alloc),
        facts,
      };
    } finally {
      await cast.stop();
    }
  },
};

/**
 * A long answer: one stream of 10 000 events (about 1.7 MB) at a time, pushed as fast as the
 * bridge's socket takes it, for every path: MB/s of body delivered, and CPU per MB by process.
 */
import { type Path, startCast } from '../cast.js';
import { runLoad } from '../load.js';
import { measureCpu } from '../proc-stats.js';
import type { Scenario } from '../scenario.js';
import { fmt, median } from '../stats.js';

const CHUNKS = 10_000;

export const longStream: Scenario = {
  id: 'long-stream',
  about: 'one 10 000-chunk stream at a time: MB/s',
  async run(ctx) {
    const cast = await startCast({ scenario: 'long-stream', bridgeArgs: ['--chunks', String(CHUNKS)] });
    try {
      const rates = new Map<Path, number[]>(cast.paths.map((p) => [p, []]));
      const cpu = new Map<Path, { bytes: number; ms: Record<string, number> }>(
        cast.paths.map((p) => [p, { bytes: 0, ms: {} }]),
      );
      for (const path of cast.paths)
        await runLoad(path, { concurrency: 1, durationMs: 1000, maxRequests: 3 }); // JIT, sockets
      for (let round = 0; round < ctx.rounds; round++) {
        for (const path of cast.paths) {
          const measured = await measureCpu(path.cpu(), () =>
            runLoad(path, { concurrency: 1, durationMs: ctx.durationMs, maxRequests: 1000 }),
          );
          const r = measured.result;
          rates.get(path)!.push(r.failed === 0 ? r.bytes / r.seconds / 1e6 : Number.NaN);
          const c = cpu.get(path)!;
          c.bytes += r.bytes;
          for (const [group, ms] of Object.entries(measured.cpu)) c.ms[group] = (c.ms[group] ?? 0) + ms;
        }
      }
      const direct = rates.get(cast.paths[0]!)!;
      const rows = cast.paths.map((path) => {
        const mbps = rates.get(path)!;
        const { bytes, ms } = cpu.get(path)!;
        const perMb = (group: string) => (ms[group] === undefined ? '' : fmt(ms[group] / (bytes / 1e6), 1));
        return [
          path.name,
          fmt(median(mbps), 1),
          fmt(median(mbps.map((x, i) => x / direct[i]!))),
          perMb('client'),
          perMb('bridge'),
          perMb('entry'),
          perMb('exit'),
        ];
      });
      return {
        id: 'long-stream',
        title: `Long stream (${CHUNKS.toLocaleString('en')} chunks, one at a time)`,
        blocks: [
          ...cast.skipped,
          `median of ${ctx.rounds} interleaved rounds × ${ctx.durationMs / 1000} s per path; CPU in ms per MB of body`,
          {
            head: ['path', 'MB/s', '×direct', 'client', 'bridge', 'entry hop', 'exit hop'],
            rows,
          },
        ],
        checks: [],
      };
    } finally {
      await cast.stop();
    }
  },
};

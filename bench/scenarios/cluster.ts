/**
 * Two relays sharing the Redis at REDIS_BENCH_URL (default 127.0.0.1:6379), one agent on relay B:
 * streams entering B (local) against streams entering A (forwarded through Redis to B).
 * Skipped when no Redis answers.
 */
import { Redis } from 'ioredis';
import { runLoad, warmUp } from '../load.js';
import { type Proc, provision, startAgentProcess, startFakeBridge, startRelayProcess } from '../processes.js';
import type { Scenario } from '../scenario.js';
import { fmt, median, signed, until } from '../stats.js';

export const cluster: Scenario = {
  id: 'cluster',
  about: '2 relays over Redis, agent on B: entering A (forwarded) vs entering B (local)',
  async run(ctx) {
    const title = 'Cluster (2 relays sharing Redis, agent on B)';
    const redisUrl = process.env.REDIS_BENCH_URL ?? 'redis://127.0.0.1:6379';
    const redis = new Redis(redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch {
      return { id: 'cluster', title, blocks: [`skipped: no Redis at ${redisUrl}`], checks: [] };
    }
    const prefix = `arena-bench-${process.pid}:`;
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, CLUSTER_HEARTBEAT_INTERVAL: '0.5' };
    const stops: Proc['stop'][] = [];
    try {
      const bridge = await startFakeBridge(['--chunks', '21']);
      stops.push(bridge.stop);
      const a = await startRelayProcess(env, 'cluster/relay-a');
      stops.push(a.stop);
      const b = await startRelayProcess(env, 'cluster/relay-b');
      stops.push(b.stop);
      const { token, key } = await provision(a.url);
      stops.push((await startAgentProcess(b.url, token, bridge.url, 64, 'cluster/agent')).stop);
      const seen = await until(async () => {
        const res = await fetch(`${a.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
        return ((await res.json()) as { data?: unknown[] }).data?.length !== 0;
      }, 10_000);
      if (!seen) throw new Error('relay A never saw the agent on relay B');
      const rounds = Math.min(ctx.rounds, 3);
      const rows: string[][] = [];
      const notes: string[] = [];
      const paths = [
        { name: 'local (enter B)', url: b.url, apiKey: key },
        { name: 'cross (enter A)', url: a.url, apiKey: key },
      ];
      for (const path of paths) await warmUp(path);
      for (const concurrency of [1, 50]) {
        for (const path of paths) await runLoad(path, { concurrency, durationMs: 500 });
        const results = paths.map(() => [] as Awaited<ReturnType<typeof runLoad>>[]);
        for (let round = 0; round < rounds; round++) {
          for (const [i, path] of paths.entries()) {
            results[i]!.push(await runLoad(path, { concurrency, durationMs: ctx.durationMs }));
          }
        }
        for (const [i, path] of paths.entries()) {
          const r = results[i]!;
          rows.push([
            `${path.name} c=${concurrency}`,
            fmt(median(r.map((x) => x.streamsPerSecond)), 0),
            fmt(median(r.map((x) => x.ttfbP50)), 3),
            fmt(median(r.map((x) => x.ttfbP99))),
            String(r.reduce((n, x) => n + x.failed, 0)),
          ]);
        }
        const [local, cross] = results as [(typeof results)[0], (typeof results)[0]];
        notes.push(
          `c=${concurrency}: cross/local streams/s ${fmt(median(cross.map((x, i) => x.streamsPerSecond / local[i]!.streamsPerSecond)))}, added TTFB p50 ${signed(median(cross.map((x, i) => x.ttfbP50 - local[i]!.ttfbP50)), 3)} ms`,
        );
      }
      return {
        id: 'cluster',
        title,
        blocks: [
          `median of ${rounds} interleaved rounds × ${ctx.durationMs / 1000} s`,
          { head: ['path', 'streams/s', 'TTFB p50 ms', 'TTFB p99 ms', 'failed'], rows },
          ...notes,
        ],
        checks: [],
      };
    } finally {
      for (const stop of stops.reverse()) await stop();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  },
};

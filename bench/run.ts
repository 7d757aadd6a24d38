/**
 * `npm run bench`: streams/s and time to first byte, directly against the fake bridge (the
 * baseline) and through relay + agent, measured in the same run, with the ratios.
 *   --duration <s>   seconds per measurement (default 5)
 *   --rounds <n>     measurements per scenario; medians are reported (default 3)
 *   --profile        write CPU profiles of the relay and agent to bench/out/profiles/
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { measureCpu } from './cpu.js';
import { type LoadResult, runLoad } from './load.js';
import { nodeFlags, provision, startAgentProcess, startFakeBridge, startRelayProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
  },
});
if (values.profile)
  nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${new URL('out/profiles', import.meta.url).pathname}`);
const durationMs = Number(values.duration) * 1000;
const rounds = Number(values.rounds);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(url: string, concurrency: number, apiKey?: string): Promise<LoadResult> {
  await runLoad(url, { concurrency, durationMs: 500, apiKey }); // warm-up: JIT, keep-alive sockets
  const results: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) results.push(await runLoad(url, { concurrency, durationMs, apiKey }));
  const pick = (f: (r: LoadResult) => number) => median(results.map(f));
  return {
    concurrency,
    completed: pick((r) => r.completed),
    failed: results.reduce((n, r) => n + r.failed, 0),
    seconds: pick((r) => r.seconds),
    streamsPerSecond: pick((r) => r.streamsPerSecond),
    ttfbP50: pick((r) => r.ttfbP50),
    ttfbP99: pick((r) => r.ttfbP99),
    bytes: pick((r) => r.bytes),
  };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function main(): Promise<void> {
  const bridge = await startFakeBridge();
  const relay = await startRelayProcess();
  const stops = [bridge.stop, relay.stop];
  try {
    const { token, key } = await provision(relay.url);
    const agent = await startAgentProcess(relay.url, token, bridge.url, 64);
    stops.unshift(agent.stop);
    console.log(`arena-relay bench — ${new Date().toISOString()} — node ${process.version}`);
    console.log(
      `each figure: median of ${rounds} × ${durationMs / 1000}s; 21-event SSE stream from the fake bridge`,
    );
    console.log(
      'machine: a noisy shared 2-core box; compare ratios within one run, not absolute figures across runs\n',
    );
    console.log('scenario              streams/s   ttfb p50 ms  ttfb p99 ms  failed');
    const rows: Record<string, LoadResult> = {};
    const cpuRows: string[] = [];
    for (const concurrency of [1, 50]) {
      for (const [name, url, apiKey] of [
        ['direct', bridge.url, undefined],
        ['relay+agent', relay.url, key],
      ] as const) {
        const { result: r, cpu } = await measureCpu(
          { bench: process.pid, bridge: bridge.child.pid, relay: relay.child.pid, agent: agent.child.pid },
          () => measure(url, concurrency, apiKey),
        );
        rows[`${name}@${concurrency}`] = r;
        const streams = r.completed * (rounds + 0.5 / (durationMs / 1000)); // rounds + warm-up, roughly
        cpuRows.push(
          `${`${name} c=${concurrency}`.padEnd(20)}  ${Object.entries(cpu)
            .map(([who, ms]) => `${who} ${((1000 * ms) / streams).toFixed(0)}`)
            .join('  ')}`,
        );
        console.log(
          `${`${name} c=${concurrency}`.padEnd(20)}  ${fmt(r.streamsPerSecond, 0).padStart(9)}   ${fmt(r.ttfbP50).padStart(11)}  ${fmt(r.ttfbP99).padStart(11)}  ${String(r.failed).padStart(6)}`,
        );
      }
    }
    const d1 = rows['direct@1']!;
    const r1 = rows['relay+agent@1']!;
    const d50 = rows['direct@50']!;
    const r50 = rows['relay+agent@50']!;
    console.log('');
    console.log(`ratio relay/direct streams/s, c=1:  ${fmt(r1.streamsPerSecond / d1.streamsPerSecond)}`);
    console.log(`ratio relay/direct streams/s, c=50: ${fmt(r50.streamsPerSecond / d50.streamsPerSecond)}`);
    console.log(`added TTFB p50, c=1:  ${fmt(r1.ttfbP50 - d1.ttfbP50, 3)} ms`);
    console.log(`added TTFB p50, c=50: ${fmt(r50.ttfbP50 - d50.ttfbP50, 3)} ms`);
    console.log('\nCPU µs per stream, by process:');
    for (const row of cpuRows) console.log(row);
    await clusterBench(bridge.url);
  } finally {
    for (const stop of stops) await stop();
  }
}

/**
 * Two relays sharing the Redis at REDIS_BENCH_URL (default 127.0.0.1:6379), one agent on relay
 * B: streams entering B (local) against streams entering A (forwarded through Redis).
 */
async function clusterBench(bridgeUrl: string): Promise<void> {
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
    console.log(`\ncluster: skipped (no Redis at ${redisUrl})`);
    return;
  }
  const prefix = `arena-bench-${process.pid}:`;
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, CLUSTER_HEARTBEAT_INTERVAL: '0.5' };
  const a = await startRelayProcess(env);
  const b = await startRelayProcess(env);
  const stops = [a.stop, b.stop];
  try {
    const { token, key } = await provision(a.url);
    const agent = await startAgentProcess(b.url, token, bridgeUrl, 64);
    stops.unshift(agent.stop);
    // Wait until relay A sees the agent on B.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${a.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      if (((await res.json()) as { data: unknown[] }).data.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log('\ncluster (2 relays, agent on B)      streams/s   ttfb p50 ms  ttfb p99 ms  failed');
    const results: Record<string, LoadResult> = {};
    for (const concurrency of [1, 50]) {
      for (const [name, url] of [
        ['local (enter B)', b.url],
        ['cross (enter A)', a.url],
      ] as const) {
        const r = await measure(url, concurrency, key);
        results[`${name}@${concurrency}`] = r;
        console.log(
          `${`${name} c=${concurrency}`.padEnd(34)}  ${fmt(r.streamsPerSecond, 0).padStart(9)}   ${fmt(r.ttfbP50).padStart(11)}  ${fmt(r.ttfbP99).padStart(11)}  ${String(r.failed).padStart(6)}`,
        );
      }
    }
    for (const c of [1, 50]) {
      const local = results[`local (enter B)@${c}`]!;
      const cross = results[`cross (enter A)@${c}`]!;
      console.log(
        `cross/local streams/s, c=${c}: ${fmt(cross.streamsPerSecond / local.streamsPerSecond)}; added TTFB p50: ${fmt(cross.ttfbP50 - local.ttfbP50, 3)} ms`,
      );
    }
  } finally {
    for (const stop of stops) await stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

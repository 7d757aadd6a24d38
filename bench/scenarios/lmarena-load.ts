/**
 * The load Arena Relay exists for: 500 streams open at once through one relay and four agents,
 * each answering at LMArena's pace (an event of ~40 bytes of text every 50 ms for 20 s: 10 000
 * chunks a second in all), from the cheap stub bridge (bench/stub-bridge.ts) to the raw load
 * generator (bench/paced-load.ts). Measured per path: the gaps between chunks at the consumer
 * (added p50 / p99 / p99.9 over direct), CPU per relayed chunk of every process, and for the
 * relay paths RSS per open stream (read while all are open, against the idle reading before),
 * bytes allocated per chunk and GC pauses (v8.GCProfiler over the inspector; no sampler). The
 * cross-relay path enters relay C with the agents on relay A, over a private redis-server: the
 * price of the cross-relay hop. `--load-streams` and `--load-seconds` scale it.
 */
import { cpus } from 'node:os';
import { type RedisServer, startRedis } from '../baselines/redis.js';
import { type Path, startCast } from '../cast.js';
import { type AllocationCount, collectGarbage, countAllocation, withSession } from '../inspector.js';
import { percentileOf, runPacedLoad } from '../paced-load.js';
import { boxCpuMs, measureCpu, rssKiB } from '../proc-stats.js';
import { type Proc, startRelayProcess, startStubBridge } from '../processes.js';
import type { Check } from '../report.js';
import type { Scenario } from '../scenario.js';
import { fmt, median, signed, sleep, until } from '../stats.js';

const RATE = 20;
const DELAY_MS = 1000 / RATE;
const AGENTS = 4;
const WARM_UP_CHUNKS = 2 * RATE;
/** The memory window: streams of 3 s, read 1 s after the last one opened. */
const MEMORY_CHUNKS = 3 * RATE;
const MEMORY_READ_MS = 1000;
const TARGET = { p99Ms: 5, rssKiB: 16, crossRatio: 1.5 };

/** A relay or agent process of a path, with its inspector. */
type Node = { role: 'entry' | 'home' | 'agents'; procs: Array<Proc & { inspector: string | undefined }> };

type Round = {
  ok: number;
  failed: number;
  firstError: string | undefined;
  p: Record<'50' | '99' | '99.9', number>;
  /** CPU ms by process group over the round. */
  cpu: Record<string, number>;
  seconds: number;
  boxBusy: number;
  /** Allocated bytes and GC pauses by role. */
  alloc: Record<string, { bytes: number; gcs: number; maxMs: number }>;
};

const sumAlloc = (counts: AllocationCount[]) => ({
  bytes: counts.reduce((n, c) => n + c.bytes, 0),
  gcs: counts.reduce((n, c) => n + c.gcs, 0),
  maxMs: Math.max(0, ...counts.map((c) => c.pauseMaxUs / 1000)),
});

const rssOf = (procs: Proc[]) => procs.reduce((n, p) => n + rssKiB(p.pid), 0);

/** V8 heap in use plus external memory (Buffers) of processes, in KiB: what is live after a GC. */
async function liveOf(procs: Array<{ inspector: string | undefined }>): Promise<number> {
  const each = await Promise.all(
    procs.map((p) =>
      withSession(p.inspector!, (s) =>
        s.evaluate<number>('(() => { const m = process.memoryUsage(); return m.heapUsed + m.external; })()'),
      ),
    ),
  );
  return each.reduce((n, b) => n + b, 0) / 1024;
}

export const lmarenaLoad: Scenario = {
  id: 'lmarena-load',
  about: '500 streams at LMArena’s pace (20 chunks/s for 20 s), 4 agents; and through a second relay',
  async run(ctx) {
    const streams = ctx.loadStreams ?? (ctx.quick ? 200 : 500);
    const seconds = ctx.loadSeconds ?? (ctx.quick ? 5 : 20);
    const chunks = Math.round(RATE * seconds);
    const rounds = Math.min(ctx.rounds, 3);
    const blocks: string[] = [];
    const redis: RedisServer | { skipped: string } = await startRedis();
    const clusterEnv: Record<string, string> =
      'skipped' in redis ? {} : { REDIS_URL: redis.url, REDIS_PREFIX: 'arena-bench-load:' };
    if ('skipped' in redis) blocks.push(`skipped: ${redis.skipped}`);
    const relayEnv = {
      ...clusterEnv,
      GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0',
      GATEWAY_QUEUE_SIZE: String(2 * streams),
    };
    const stops: Array<() => Promise<void>> = [];
    if (!('skipped' in redis)) stops.push(redis.stop);
    try {
      const cast = await startCast({
        scenario: 'lmarena-load',
        bridgeArgs: [],
        bridge: () => startStubBridge(['--chunks', String(chunks), '--delay-ms', String(DELAY_MS)]),
        relayEnv,
        agents: AGENTS,
        maxConcurrency: Math.ceil(streams / AGENTS) + 16,
      });
      stops.push(cast.stop);
      blocks.push(...cast.skipped);
      const agents: Node = { role: 'agents', procs: cast.agents };
      const nodes = new Map<Path, Node[]>();
      const paths = [...cast.paths];
      const redisPids = 'skipped' in redis ? [] : [redis.pid];
      const local = paths.find((p) => p.name === 'relay+agent')!;
      local.cpu = () => ({
        client: [process.pid],
        bridge: [cast.bridge.pid],
        entry: [cast.relay.pid],
        agents: cast.agents.map((a) => a.pid),
        redis: redisPids,
      });
      nodes.set(local, [{ role: 'entry', procs: [cast.relay] }, agents]);
      if (!('skipped' in redis)) {
        const relayC = await startRelayProcess(relayEnv, 'lmarena-load/relay-c', { inspect: true });
        stops.push(relayC.stop);
        const seen = await until(async () => {
          const res = await fetch(`${relayC.url}/v1/models`, {
            headers: { authorization: `Bearer ${cast.key}` },
          });
          return ((await res.json()) as { data?: unknown[] }).data?.length !== 0;
        }, 15_000);
        if (!seen) throw new Error('relay C never saw the agents on relay A');
        const cross: Path = {
          name: 'cross-relay',
          url: relayC.url,
          apiKey: cast.key,
          cpu: () => ({
            client: [process.pid],
            bridge: [cast.bridge.pid],
            entry: [relayC.pid],
            home: [cast.relay.pid],
            agents: cast.agents.map((a) => a.pid),
            redis: redisPids,
          }),
        };
        paths.push(cross);
        nodes.set(cross, [{ role: 'entry', procs: [relayC] }, { role: 'home', procs: [cast.relay] }, agents]);
      }

      const load = (path: Path, n: number, onAllOpen?: () => void) =>
        runPacedLoad({
          url: path.url,
          apiKey: path.apiKey,
          streams,
          spreadMs: DELAY_MS,
          steadyMs: DELAY_MS + Math.min(1000, (n * DELAY_MS) / 4),
          minGapMs: DELAY_MS / 2,
          chunks: n,
          timeoutMs: n * DELAY_MS + 20_000,
          ...(onAllOpen ? { onAllOpen } : {}),
        });

      const measure = async (path: Path): Promise<Round> => {
        const pathNodes = nodes.get(path) ?? [];
        const counters = await Promise.all(
          pathNodes.map(async (n) => ({
            role: n.role,
            stops: await Promise.all(n.procs.map((p) => countAllocation(p.inspector!))),
          })),
        );
        const box = boxCpuMs();
        const started = performance.now();
        const { result, cpu } = await measureCpu(path.cpu(), () => load(path, chunks));
        const elapsed = (performance.now() - started) / 1000;
        const boxAfter = boxCpuMs();
        const alloc: Round['alloc'] = {};
        for (const c of counters) alloc[c.role] = sumAlloc(await Promise.all(c.stops.map((stop) => stop())));
        return {
          ok: result.ok,
          failed: result.failed,
          firstError: result.firstError,
          p: {
            '50': percentileOf(result.gaps, 50),
            '99': percentileOf(result.gaps, 99),
            '99.9': percentileOf(result.gaps, 99.9),
          },
          cpu,
          seconds: elapsed,
          boxBusy: (boxAfter.busy - box.busy) / Math.max(1, boxAfter.total - box.total),
          alloc,
        };
      };

      /**
       * RSS per open stream, in a window of its own after the rounds (its full GCs would stop
       * the measured streams): each process of the path after a full GC with nothing open, then
       * after a full GC with every stream open.
       */
      const memory = async (path: Path): Promise<Record<string, number>> => {
        const pathNodes = nodes.get(path)!;
        const quiet = () =>
          Promise.all(pathNodes.flatMap((n) => n.procs.map((p) => collectGarbage(p.inspector!))));
        await quiet();
        const live = Object.fromEntries(
          await Promise.all(pathNodes.map(async (n) => [n.role, await liveOf(n.procs)] as const)),
        );
        const open: Record<string, number> = {};
        let reading: Promise<void> | undefined;
        await load(path, MEMORY_CHUNKS, () => {
          reading = sleep(MEMORY_READ_MS).then(async () => {
            await quiet();
            for (const n of pathNodes) {
              open[n.role] = (rssOf(n.procs) - startupRss.get(n.procs)!) / streams;
              open[`${n.role}.live`] = ((await liveOf(n.procs)) - live[n.role]!) / streams;
            }
          });
        });
        await reading;
        return open;
      };

      // RSS does not shrink back after a peak (V8 and malloc keep their pages), so the idle
      // reading is taken once, before any load: RSS per stream is then an upper bound (it holds
      // compiled code and heap room the load grew too). The live column is the exact part.
      const startupRss = new Map<Proc[], number>();
      for (const pathNodes of nodes.values()) {
        for (const n of pathNodes) {
          if (startupRss.has(n.procs)) continue;
          await Promise.all(n.procs.map((p) => collectGarbage(p.inspector!)));
          startupRss.set(n.procs, rssOf(n.procs));
        }
      }
      for (const path of paths) await load(path, WARM_UP_CHUNKS);
      const results = new Map<Path, Round[]>(paths.map((p) => [p, []]));
      for (let round = 0; round < rounds; round++)
        for (const path of paths) results.get(path)!.push(await measure(path));
      const rss = new Map<Path, Record<string, number>>();
      for (const path of nodes.keys()) rss.set(path, await memory(path));
      return report({ paths, results, nodes, rss, streams, seconds, chunks, rounds, blocks });
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  },
};

function report(run: {
  paths: Path[];
  results: Map<Path, Round[]>;
  nodes: Map<Path, Node[]>;
  rss: Map<Path, Record<string, number>>;
  streams: number;
  seconds: number;
  chunks: number;
  rounds: number;
  blocks: string[];
}) {
  const { paths, results, nodes, rss: memory, streams, seconds, chunks, rounds, blocks } = run;
  const direct = results.get(paths[0]!)!;
  const facts: Record<string, number> = { cores: cpus().length, streams };
  const checks: Check[] = [];
  /** Events relayed per round: each stream's content events and its closing one. */
  const events = (r: Round) => r.ok * (chunks + 1);
  const perChunk = (path: Path, group: string) =>
    median(
      results
        .get(path)!
        .map((r) => (r.cpu[group] === undefined ? Number.NaN : (1000 * r.cpu[group]) / events(r))),
    );
  const hops = (path: Path) =>
    ['entry', 'home', 'agents', 'redis'].reduce(
      (n, g) => n + (Number.isFinite(perChunk(path, g)) ? perChunk(path, g) : 0),
      0,
    );
  const gapRows: string[][] = [];
  const cpuRows: string[][] = [];
  const memRows: string[][] = [];
  for (const path of paths) {
    const rs = results.get(path)!;
    const at = (p: '50' | '99' | '99.9') => median(rs.map((r) => r.p[p]));
    const added = (p: '50' | '99' | '99.9') => median(rs.map((r, i) => r.p[p] - direct[i]!.p[p]));
    const isDirect = path === paths[0];
    for (const p of ['50', '99', '99.9'] as const) facts[`load.added.${path.name}.p${p}`] = added(p);
    gapRows.push([
      path.name,
      `${rs.reduce((n, r) => n + r.ok, 0)}/${rs.reduce((n, r) => n + r.failed, 0)}`,
      fmt(at('50')),
      fmt(at('99')),
      fmt(at('99.9')),
      isDirect ? '' : signed(added('50')),
      isDirect ? '' : signed(added('99')),
      isDirect ? '' : signed(added('99.9')),
      `${fmt(100 * median(rs.map((r) => r.boxBusy)), 0)} %`,
    ]);
    const groups = ['client', 'bridge', 'entry', 'home', 'agents', 'redis'];
    for (const g of groups) facts[`load.cpu.${path.name}.${g}`] = perChunk(path, g);
    facts[`load.cpu.${path.name}.hops`] = hops(path);
    cpuRows.push([
      path.name,
      ...groups.map((g) => (Number.isFinite(perChunk(path, g)) ? fmt(perChunk(path, g), 1) : '')),
      isDirect ? '' : fmt(hops(path), 1),
    ]);
    const pathNodes = nodes.get(path);
    if (pathNodes) {
      for (const n of pathNodes) {
        const rss = memory.get(path)?.[n.role] ?? Number.NaN;
        const live = memory.get(path)?.[`${n.role}.live`] ?? Number.NaN;
        const bytes = median(rs.map((r) => r.alloc[n.role]!.bytes / events(r)));
        const gcPerSecond = median(rs.map((r) => r.alloc[n.role]!.gcs / r.seconds));
        const gcMax = Math.max(...rs.map((r) => r.alloc[n.role]!.maxMs));
        const role =
          n.role === 'entry'
            ? 'relay (entry)'
            : n.role === 'home'
              ? 'relay A (agents’ relay)'
              : `${AGENTS} agents`;
        facts[`load.rss.${path.name}.${n.role}`] = rss;
        facts[`load.live.${path.name}.${n.role}`] = live;
        facts[`load.alloc.${path.name}.${n.role}`] = bytes;
        facts[`load.gc.${path.name}.${n.role}.perSecond`] = gcPerSecond;
        facts[`load.gc.${path.name}.${n.role}.maxMs`] = gcMax;
        memRows.push([
          `${path.name}: ${role}`,
          fmt(rss, 1),
          fmt(live, 1),
          fmt(bytes, 0),
          fmt(gcPerSecond, 1),
          fmt(gcMax, 1),
        ]);
      }
    }
    const failure = rs.find((r) => r.firstError)?.firstError;
    if (failure) blocks.push(`${path.name}: first failure: ${failure}`);
  }
  const local = paths.find((p) => p.name === 'relay+agent')!;
  const cross = paths.find((p) => p.name === 'cross-relay');
  const addedP99 = facts['load.added.relay+agent.p99']!;
  checks.push({
    target: 'loadP99',
    value: `${signed(addedP99)} ms (${streams} streams)`,
    pass: addedP99 <= TARGET.p99Ms,
  });
  const relayRss = facts['load.rss.relay+agent.entry']!;
  checks.push({
    target: 'loadRss',
    value: `${fmt(relayRss, 1)} KiB, an upper bound, of which ${fmt(facts['load.live.relay+agent.entry']!, 1)} KiB live (${streams} streams)`,
    pass: relayRss <= TARGET.rssKiB,
  });
  if (cross) {
    const ratio = hops(cross) / hops(local);
    facts['load.crossRatio'] = ratio;
    checks.push({
      target: 'crossCpu',
      value: `${fmt(ratio)} × (${fmt(hops(cross), 1)} µs against ${fmt(hops(local), 1)} µs per chunk)`,
      pass: ratio <= TARGET.crossRatio,
    });
  }
  const generator = median(direct.map((r) => ((r.cpu.client ?? 0) + (r.cpu.bridge ?? 0)) / r.seconds));
  facts['load.generatorMsPerSecond'] = generator;
  const box = 1000 * cpus().length;
  const busiest = Math.max(...[...results.values()].flat().map((r) => r.boxBusy));
  facts['load.boxBusiest'] = busiest;
  const notes = [
    `the load generator and the stub bridge use ${fmt(generator, 0)} ms of CPU a second (direct) of the box's ${box}${generator > box / 2 ? ': more than half of it, so the box is saturated by them and the added figures measure waiting for a core as much as the hops' : ''}`,
    ...(busiest >= 0.9
      ? [
          `the box was ${fmt(100 * busiest, 0)} % busy in its busiest round (whoever used it: the "box busy" column): the added figures include waiting for a core`,
        ]
      : []),
  ];
  return {
    id: 'lmarena-load',
    title: `LMArena-paced load (${streams} streams open at once, ${RATE} chunks/s each for ${seconds} s, ${AGENTS} agents)`,
    blocks: [
      ...blocks,
      `median of ${rounds} interleaved rounds per path; each stream its own connection, ${chunks} events of ~40 bytes of text (~230 bytes on the wire) one per ${DELAY_MS} ms, the starts spread over ${DELAY_MS} ms; gaps between reads of a stream at the consumer after the opening second, in ms; box busy: the whole machine's CPU over the round (/proc/stat)`,
      {
        head: [
          'path',
          'streams ok/failed',
          'gap p50',
          'p99',
          'p99.9',
          'added p50',
          'added p99',
          'added p99.9',
          'box busy',
        ],
        rows: gapRows,
      },
      'CPU µs per relayed chunk, by process (every process’s CPU over the round ÷ events relayed; a stream’s open and close included); entry: the relay the consumer enters; home: relay A, holding the agents, on the cross-relay path; redis: the private redis-server both relays share (per request on the local path, per chunk on the cross-relay one)',
      { head: ['path', 'client', 'bridge', 'entry', 'home', 'agents', 'redis', 'hops'], rows: cpuRows },
      `memory and GC of the relay paths: RSS growth per open stream (after a full GC ${MEMORY_READ_MS / 1000} s after all ${streams} streams of a window of their own opened, after the rounds, against after a full GC at start, before any load: an upper bound, as RSS keeps the room earlier peaks grew), the live part of it (V8 heap in use + external memory, after a full GC, against the same with nothing open just before that window), bytes allocated on the V8 heap per relayed chunk (v8.GCProfiler over the inspector during the rounds: heap growth + what GC freed; Buffer contents off the heap not counted), and GC pauses in the rounds`,
      {
        head: [
          'process',
          'RSS KiB per stream',
          'live KiB per stream',
          'B allocated per chunk',
          'GC pauses/s',
          'longest GC ms',
        ],
        rows: memRows,
      },
      ...notes,
    ],
    checks,
    facts,
  };
}

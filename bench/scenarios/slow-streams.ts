/**
 * Many slow streams at once: streams of 20 chunks, one chunk every 50 ms, kept open for a few
 * seconds (a finished stream is replaced at once, so `streams / 0.95 s` start every second), the
 * first starts spread over one stream's life. Measures the gaps between chunks at the consumer
 * once that ramp is over; what a path adds to the p99 gap over direct is the delay it puts
 * between two tokens under this load. Run at 200 streams (the target: the box has CPU to spare)
 * and at 2 000 (information: the box is saturated). The agent takes at most 1 024 streams (its
 * max_concurrency limit), so two agents share them. After the rounds at 200, instrumented windows
 * on relay+agent alone: bytes allocated per chunk and CPU by phase.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
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
import { type PacedResult, runPacedStreams } from '../load.js';
import { measureCpu } from '../proc-stats.js';
import type { Check } from '../report.js';
import type { Scenario } from '../scenario.js';
import { fmt, median, percentile, signed } from '../stats.js';

const DELAY_MS = 50;
const CHUNKS = 20;
/** One stream's life: the ramp over which the first starts are spread, left out of the gaps. */
const LIFE_MS = DELAY_MS * (CHUNKS - 1);
/** Sockets per stream in the busiest process: nginx holds the consumer's and the upstream one. */
const FDS_PER_STREAM = 2;
const AGENTS = 2;
/** The level the target is checked at, and the instrumented windows run at. */
const TARGET_STREAMS = 200;
const ALLOC_LIMIT = 1000;
/** Issue 24: the added inter-chunk p99 at TARGET_STREAMS, in ms. */
const P99_LIMIT_MS = 1.5;

/** The soft limit on open files of this process (children inherit it). */
function openFileLimit(): number {
  try {
    const line = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

type Run = { results: PacedResult[]; cpu: Record<string, number> };

/** Why the largest level is information only: what client and bridge alone use of the box. */
function saturationNote(facts: Record<string, number>, levels: number[]): string[] {
  const top = Math.max(...levels);
  if (top <= TARGET_STREAMS) return [];
  const load =
    (facts[`cpu.direct ×${top}.client`] ?? Number.NaN) + (facts[`cpu.direct ×${top}.bridge`] ?? Number.NaN);
  return [
    `The ×${top} rows are information, not a target: there the load generator and the stub bridge alone use ${fmt(load, 0)} ms of CPU per second (direct ×${top}) of the box's ${cpus().length * 1000}, so every path queues for a core and its added p99 measures who waits, not what it adds.`,
  ];
}

/** Relay against sshd, agents against ssh, in CPU ms a second at TARGET_STREAMS (none without ssh -R). */
function cpuCheck(facts: Record<string, number>): Check | undefined {
  const at = (path: string, g: string) => facts[`cpu.${path} ×${TARGET_STREAMS}.${g}`] ?? Number.NaN;
  const ssh = { entry: at('ssh -R', 'entry'), exit: at('ssh -R', 'exit') };
  if (!Number.isFinite(ssh.entry)) return undefined;
  const relay = { entry: at('relay+agent', 'entry'), exit: at('relay+agent', 'exit') };
  return {
    target: 'slowCpu',
    value: `relay ${fmt(relay.entry, 0)} ms/s (sshd ${fmt(ssh.entry, 0)}), agents ${fmt(relay.exit, 0)} ms/s (ssh ${fmt(ssh.exit, 0)})`,
    pass: relay.entry <= ssh.entry && relay.exit <= ssh.exit,
  };
}

export const slowStreams: Scenario = {
  id: 'slow-streams',
  about: '200 and 2 000 concurrent streams, 1 chunk / 50 ms: added inter-chunk delay p99',
  async run(ctx) {
    const limit = openFileLimit();
    const fit = Number.isFinite(limit) ? Math.floor((limit - 256) / FDS_PER_STREAM) : 2000;
    const levels = (ctx.quick ? [200] : [200, 2000]).map((n) => Math.min(n, fit));
    const largest = Math.max(...levels);
    const rounds = Math.min(ctx.rounds, 3);
    const durationMs = LIFE_MS + Math.max(2_000, ctx.durationMs);
    const cast = await startCast({
      scenario: 'slow-streams',
      bridgeArgs: ['--chunks', String(CHUNKS), '--delay-ms', String(DELAY_MS)],
      relayEnv: { GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0', GATEWAY_QUEUE_SIZE: String(2 * largest) },
      agents: AGENTS,
      maxConcurrency: Math.min(1024, Math.ceil(largest / AGENTS) + 8),
    });
    try {
      const rows: string[][] = [];
      const checks: Check[] = [];
      const facts: Record<string, number> = { cores: cpus().length };
      const phases: PhaseColumn[] = [];
      let alloc: Allocation | undefined;
      for (const streams of levels) {
        const runs = new Map<Path, Run>(cast.paths.map((p) => [p, { results: [], cpu: {} }]));
        const clients = new Map(
          cast.paths.map((p) => [p, new http.Agent({ keepAlive: true, maxSockets: streams })]),
        );
        const load = (path: Path, ms: number) =>
          runPacedStreams(path, {
            streams,
            rampMs: LIFE_MS,
            durationMs: ms,
            minGapMs: DELAY_MS / 2,
            agent: clients.get(path)!,
          });
        for (const path of cast.paths) await load(path, LIFE_MS); // opens every connection once
        for (let round = 0; round < rounds; round++) {
          for (const path of cast.paths) {
            const { result, cpu } = await measureCpu(path.cpu(), () => load(path, durationMs));
            const run = runs.get(path)!;
            run.results.push(result);
            for (const [group, ms] of Object.entries(cpu)) run.cpu[group] = (run.cpu[group] ?? 0) + ms;
          }
        }
        const relayPath = cast.paths.find((p) => p.name === 'relay+agent')!;
        if (streams === TARGET_STREAMS) {
          // Instrumented windows, relay+agent alone, after every measured round of this level.
          const window = () => load(relayPath, durationMs);
          alloc = await measureAllocation(cast, window, (r) => ({
            chunks: r.completed * CHUNKS,
            streams: r.completed,
          }));
          const profiled = await profilePhases(cast, `×${streams}`, window, (r) => r.completed);
          phases.push(profiled.relay, profiled.agent);
        }
        for (const client of clients.values()) client.destroy();
        const direct = runs.get(cast.paths[0]!)!.results;
        for (const path of cast.paths) {
          const { results, cpu } = runs.get(path)!;
          const at = (p: number) => median(results.map((r) => percentile(r.gaps, p)));
          const added = median(
            results.map((r, i) => percentile(r.gaps, 99) - percentile(direct[i]!.gaps, 99)),
          );
          const sshAdded = facts[`added.ssh -R ×${streams}`];
          if (path.name === 'relay+agent' && streams === TARGET_STREAMS) {
            checks.push({
              target: 'slowP99',
              value: `${signed(added)} ms${sshAdded === undefined ? '' : ` (ssh -R ${signed(sshAdded)} ms)`}`,
              pass: added <= P99_LIMIT_MS,
            });
          }
          const msPerSecond = (g: string) =>
            cpu[g] === undefined ? Number.NaN : cpu[g] / rounds / (durationMs / 1000);
          const perSecond = (g: string) => (cpu[g] === undefined ? '' : fmt(msPerSecond(g), 0));
          facts[`added.${path.name} ×${streams}`] = added;
          for (const g of ['client', 'bridge', 'entry', 'exit'])
            facts[`cpu.${path.name} ×${streams}.${g}`] = msPerSecond(g);
          rows.push([
            `${path.name} ×${streams}`,
            `${results.reduce((n, r) => n + r.completed, 0)}/${results.reduce((n, r) => n + r.failed, 0)}`,
            fmt(at(50)),
            fmt(at(99)),
            fmt(at(99.9)),
            path.name === 'direct' ? '' : signed(added),
            perSecond('client'),
            perSecond('bridge'),
            perSecond('entry'),
            perSecond('exit'),
          ]);
        }
      }
      const slowCpu = cpuCheck(facts);
      if (slowCpu) checks.push(slowCpu);
      if (alloc) Object.assign(facts, allocationFacts(`×${TARGET_STREAMS}`, alloc));
      Object.assign(facts, phaseFacts(phases));
      return {
        id: 'slow-streams',
        title: `Slow streams (${levels.join(' and ')} open at once, ${CHUNKS} chunks, one per ${DELAY_MS} ms)`,
        blocks: [
          ...cast.skipped,
          `ulimit -n: ${limit}${largest < (ctx.quick ? 200 : 2000) ? ` — too low; ran ${largest} streams at most` : ' (enough)'}`,
          `median of ${rounds} interleaved rounds × ${fmt(durationMs / 1000, 1)} s per path, the streams open throughout (a finished one is replaced at once); gaps between chunks of a stream at the consumer after the first ${LIFE_MS} ms, in ms; ${AGENTS} agents share the streams; CPU in ms per second, by process`,
          {
            head: [
              'path',
              'streams ok/failed',
              'gap p50',
              'p99',
              'p99.9',
              'added p99',
              'client',
              'bridge',
              'entry',
              'exit',
            ],
            rows,
          },
          ...saturationNote(facts, levels),
          ...(alloc
            ? [
                `bytes allocated on the V8 heaps of relay and agents (both summed) in one window at ${TARGET_STREAMS} streams after the rounds (heap in use at the end − at the start + what each GC in between freed, read over the inspector; Buffer contents off the heap not counted; split by phase in the proportions of an allocation sample taken in the same window, one per 8 KiB; GC pauses as v8.GCProfiler reports them, the sampler running); a stream's open and close included, ${CHUNKS} chunks per stream`,
                allocationTable(`×${TARGET_STREAMS}`, alloc),
              ]
            : []),
          ...(phases.length
            ? [
                `CPU by phase at ${TARGET_STREAMS} streams: relay and agents profiled over the inspector in one window after the rounds, as in the throughput section; µs per stream`,
                phaseTable(phases),
                PHASE_NOTE,
              ]
            : []),
        ],
        checks: [
          ...checks,
          ...(alloc
            ? [
                {
                  target: 'allocSlow' as const,
                  value: allocationValue(alloc),
                  pass: Math.max(alloc.relayBytes, alloc.agentBytes) / alloc.chunks <= ALLOC_LIMIT,
                },
              ]
            : []),
        ],
        facts,
      };
    } finally {
      await cast.stop();
    }
  },
};

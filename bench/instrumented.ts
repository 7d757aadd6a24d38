/**
 * Instrumented windows on a cast's relay + agent path, run after a scenario's unprofiled rounds
 * so that what they cost never reaches the headline figures: bytes allocated per relayed chunk
 * (bench/inspector.ts countAllocation) and CPU by phase (a CPU profile over the inspector,
 * classified by bench/phases.ts, scaled to the CPU /proc measured in the same window).
 */
import type { Cast } from './cast.js';
import {
  type AllocationCount,
  countAllocation,
  startAllocationSampling,
  startCpuProfile,
} from './inspector.js';
import { allocationTotals, PHASES, type Phase, type PhaseTotals, phaseTotals } from './phases.js';
import { measureCpu } from './proc-stats.js';
import { sourceResolver } from './profile-sources.js';
import type { Table } from './report.js';
import { fmt } from './stats.js';

const inspectors = (procs: Array<{ inspector: string | undefined }>): string[] =>
  procs.map((p) => {
    if (!p.inspector) throw new Error('relay or agent started without an inspector');
    return p.inspector;
  });

/** Sampled bytes by phase: where the allocation happens, in proportion (see Allocation). */
type SampledBytes = Record<Phase, number>;

export type Allocation = {
  relayBytes: number;
  agentBytes: number;
  chunks: number;
  streams: number;
  relaySampled: SampledBytes;
  agentSampled: SampledBytes;
  /** GC pauses over the window: the relay's, and the agents' (counts summed, the longest of any). */
  relayGc: GcPauses;
  agentGc: GcPauses;
  seconds: number;
};

type GcPauses = { count: number; totalMs: number; maxMs: number };

const pausesOf = (counts: AllocationCount[]): GcPauses => ({
  count: counts.reduce((n, c) => n + c.gcs, 0),
  totalMs: counts.reduce((n, c) => n + c.pauseTotalUs, 0) / 1000,
  maxMs: Math.max(...counts.map((c) => c.pauseMaxUs)) / 1000,
});

const addBytes = (a: SampledBytes, b: SampledBytes): SampledBytes =>
  Object.fromEntries(Object.keys(PHASES).map((p) => [p, a[p as Phase] + b[p as Phase]])) as SampledBytes;

/**
 * Bytes the relay and the agents (summed) allocate on their V8 heaps while `work` runs, counted
 * exactly (countAllocation), and sampled by phase (one sample per 8 KiB on average, collected
 * objects included) to say where; `count` says how many chunks and streams `work` relayed.
 */
export async function measureAllocation<T>(
  cast: Cast,
  work: () => Promise<T>,
  count: (result: T) => { chunks: number; streams: number },
): Promise<Allocation> {
  const urls = inspectors([cast.relay, ...cast.agents]);
  const samplers = await Promise.all(urls.map((url) => startAllocationSampling(url)));
  const counters = await Promise.all(urls.map((url) => countAllocation(url)));
  const started = performance.now();
  const result = await work().catch(async (error: unknown) => {
    await Promise.allSettled(samplers.map((stop) => stop()));
    throw error;
  });
  const seconds = (performance.now() - started) / 1000;
  const [relayCount, ...agentCounts] = await Promise.all(counters.map((stop) => stop()));
  const sourceOf = sourceResolver();
  const [relaySampled, ...agentSampled] = (await Promise.all(samplers.map((stop) => stop()))).map(
    (tree) => allocationTotals(tree, sourceOf).byPhase,
  );
  return {
    relayBytes: relayCount!.bytes,
    agentBytes: agentCounts.reduce((n, c) => n + c.bytes, 0),
    relayGc: pausesOf([relayCount!]),
    agentGc: pausesOf(agentCounts),
    seconds,
    relaySampled: relaySampled!,
    agentSampled: agentSampled.reduce(addBytes),
    ...count(result),
  };
}

/** Bytes per chunk, relay and agent, as a check value: `relay 3.4 KB, agent 2.1 KB`. */
export const allocationValue = (a: Allocation): string =>
  `relay ${bytes(a.relayBytes / a.chunks)}, agent ${bytes(a.agentBytes / a.chunks)} per chunk`;

export const bytes = (n: number): string =>
  !Number.isFinite(n) ? '–' : n >= 1000 ? `${fmt(n / 1000, 1)} KB` : `${fmt(n, 0)} B`;

/**
 * The allocation table of a scenario: per stream, per chunk, and per chunk by phase (the exact
 * count split in the proportions of the samples; phases under 2 % everywhere left out).
 */
export function allocationTable(label: string, a: Allocation): Table {
  const sum = (b: SampledBytes) => Object.values(b).reduce((n, x) => n + x, 0);
  const share = (b: SampledBytes, p: Phase) => (sum(b) > 0 ? b[p] / sum(b) : 0);
  const phases = (Object.keys(PHASES) as Phase[]).filter(
    (p) => share(a.relaySampled, p) >= 0.02 || share(a.agentSampled, p) >= 0.02,
  );
  return {
    head: [`allocated on the V8 heap, ${label}`, 'relay', 'agent'],
    rows: [
      ['per stream', bytes(a.relayBytes / a.streams), bytes(a.agentBytes / a.streams)],
      ['per relayed chunk', bytes(a.relayBytes / a.chunks), bytes(a.agentBytes / a.chunks)],
      ...phases.map((p) => [
        `  of which ${PHASES[p]}`,
        bytes((share(a.relaySampled, p) * a.relayBytes) / a.chunks),
        bytes((share(a.agentSampled, p) * a.agentBytes) / a.chunks),
      ]),
      [
        `GC pauses in the ${fmt(a.seconds, 1)} s window: count, total, longest`,
        pauses(a.relayGc),
        pauses(a.agentGc),
      ],
    ],
  };
}

const pauses = (g: GcPauses) => `${g.count}, ${fmt(g.totalMs, 0)} ms, ${fmt(g.maxMs, 1)} ms`;

/** Facts for docs/performance.md: `alloc.<label>.<relay|agent>[.<phase>]` → bytes per chunk. */
export function allocationFacts(label: string, a: Allocation): Record<string, number> {
  const facts: Record<string, number> = {};
  for (const [who, total, sampled, gc] of [
    ['relay', a.relayBytes, a.relaySampled, a.relayGc],
    ['agent', a.agentBytes, a.agentSampled, a.agentGc],
  ] as const) {
    facts[`alloc.${label}.${who}`] = total / a.chunks;
    facts[`gc.${label}.${who}.perSecond`] = gc.count / a.seconds;
    facts[`gc.${label}.${who}.maxMs`] = gc.maxMs;
    const sum = Object.values(sampled).reduce((n, x) => n + x, 0);
    for (const p of Object.keys(PHASES) as Phase[])
      facts[`alloc.${label}.${who}.${p}`] = sum > 0 ? ((sampled[p] / sum) * total) / a.chunks : Number.NaN;
  }
  return facts;
}

/** One process's (or process group's) CPU by phase over a profiled window. */
export type PhaseColumn = { label: string; totals: PhaseTotals; cpuMs: number; streams: number };

const addTotals = (a: PhaseTotals, b: PhaseTotals): PhaseTotals => ({
  busyUs: a.busyUs + b.busyUs,
  idleUs: a.idleUs + b.idleUs,
  byPhase: Object.fromEntries(
    Object.keys(PHASES).map((p) => [p, a.byPhase[p as Phase] + b.byPhase[p as Phase]]),
  ) as Record<Phase, number>,
});

/**
 * Profiles the relay and the agents (summed) while `work` runs, one sample every `intervalUs`;
 * `streams` says how many streams it relayed. Returns a column for each.
 */
export async function profilePhases<T>(
  cast: Cast,
  label: string,
  work: () => Promise<T>,
  streams: (result: T) => number,
  intervalUs = 500,
): Promise<{ relay: PhaseColumn; agent: PhaseColumn }> {
  const stops = await Promise.all(
    inspectors([cast.relay, ...cast.agents]).map((url) => startCpuProfile(url, intervalUs)),
  );
  const groups = { relay: [cast.relay.pid], agent: cast.agents.map((a) => a.pid) };
  const measured = await measureCpu(groups, work).catch(async (error: unknown) => {
    // An open profiling session would keep the process from exiting.
    await Promise.allSettled(stops.map((stop) => stop()));
    throw error;
  });
  const profiles = await Promise.all(stops.map((stop) => stop()));
  const sourceOf = sourceResolver();
  const [relay, ...agents] = profiles.map((p) => phaseTotals(p, sourceOf));
  const n = streams(measured.result);
  return {
    relay: { label: `relay ${label}`, totals: relay!, cpuMs: measured.cpu.relay ?? 0, streams: n },
    agent: {
      label: `agent ${label}`,
      totals: agents.reduce(addTotals),
      cpuMs: measured.cpu.agent ?? 0,
      streams: n,
    },
  };
}

/** µs per stream of a phase in a column: its share of the sampled busy time × measured CPU. */
export function phaseMicros(column: PhaseColumn, phase: Phase): number {
  const { busyUs, byPhase } = column.totals;
  return busyUs > 0 ? ((byPhase[phase] / busyUs) * column.cpuMs * 1000) / column.streams : Number.NaN;
}

/** The phase table: a row per phase (those under 0.5 % everywhere left out), a column per process. */
export function phaseTable(columns: PhaseColumn[]): Table {
  const share = (c: PhaseColumn, p: Phase) =>
    c.totals.busyUs > 0 ? c.totals.byPhase[p] / c.totals.busyUs : 0;
  const rows = (Object.keys(PHASES) as Phase[])
    .filter((p) => columns.some((c) => share(c, p) >= 0.005))
    .map((p) => [
      PHASES[p],
      ...columns.map((c) => `${fmt(phaseMicros(c, p), 0)} µs · ${fmt(100 * share(c, p), 0)} %`),
    ]);
  rows.push([
    'sampled busy time per stream (main thread)',
    ...columns.map((c) => `${fmt(c.totals.busyUs / c.streams, 0)} µs`),
  ]);
  rows.push([
    'CPU per stream while profiled (all threads)',
    ...columns.map((c) => `${fmt((1000 * c.cpuMs) / c.streams, 0)} µs`),
  ]);
  return { head: ['phase (µs per stream · share of busy)', ...columns.map((c) => c.label)], rows };
}

/** What the phase table cannot say, printed under it. */
export const PHASE_NOTE =
  'How to read it: the profiler samples the main thread by wall clock, so the shares are of its time not idle, and the µs scale them to the CPU /proc measured. The two last rows check that: sampled busy well above the CPU means the process waited for a core while busy (a loaded box), and the shares then lean towards where the kernel preempts it (system calls: socket writes, (program)); well below means work the sampler counts as idle (Node marks the poll phase idle, so native socket reads before their callback are missing). (program) is native code with no JS function on the stack (Node’s and libuv’s C++ between callbacks, V8’s own work); splitting it takes a native profiler such as perf. GC counts the main thread’s pauses; the parallel scavenger’s helper threads are in the all-threads CPU only.';

/** Facts for docs/performance.md's explanations: `phase.<label>.<phase>` → µs per stream. */
export function phaseFacts(columns: PhaseColumn[]): Record<string, number> {
  const facts: Record<string, number> = {};
  for (const c of columns) {
    for (const p of Object.keys(PHASES) as Phase[]) facts[`phase.${c.label}.${p}`] = phaseMicros(c, p);
    facts[`phase.${c.label}.cpu`] = (1000 * c.cpuMs) / c.streams;
  }
  return facts;
}

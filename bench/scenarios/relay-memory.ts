/**
 * Helpers for the relay-memory scenarios: a relay with room for a crowd of agents, and readings
 * of its RSS and JS heap taken after a full GC (asked for through the inspector), so garbage not
 * yet collected is not mistaken for memory kept.
 */
import { collectGarbage } from '../inspector.js';
import { rssKiB } from '../proc-stats.js';
import { type Inspectable, type Proc, provision, startRelayProcess } from '../processes.js';
import { sleep } from '../stats.js';

export type MemoryReading = { rssKiB: number; heapUsedKiB: number; collected: boolean };
type CrowdRelay = Proc & Inspectable & { url: string; token: string };

/** A relay that accepts any number of agents of one client from one address. */
export async function startCrowdRelay(scenario: string): Promise<CrowdRelay> {
  const relay = await startRelayProcess(
    { GATEWAY_MAX_AGENTS_PER_CLIENT: '100000', GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0' },
    `${scenario}/relay`,
    { inspect: true },
  );
  try {
    const { token } = await provision(relay.url);
    return { ...relay, token };
  } catch (error) {
    await relay.stop();
    throw error;
  }
}

/** The relay's VmRSS and V8 heap in use (its `/metrics`), after `settleMs` of quiet and a full GC. */
export async function readMemory(relay: CrowdRelay, settleMs = 1_000): Promise<MemoryReading> {
  await sleep(settleMs);
  const collected = relay.inspector ? await collectGarbage(relay.inspector) : false;
  await sleep(250);
  let heapUsedKiB = Number.NaN;
  try {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes\s+(\S+)/m.exec(text);
    if (match) heapUsedKiB = Number(match[1]) / 1024;
  } catch {}
  return { rssKiB: rssKiB(relay.pid), heapUsedKiB, collected };
}

export const mib = (kib: number) => (kib / 1024).toFixed(1);

/** The note under a memory table: whether its readings followed a full GC. */
export const gcNote = (readings: MemoryReading[]) =>
  readings.every((r) => r.collected)
    ? 'each reading after 1 s of quiet and a full GC (HeapProfiler.collectGarbage over the inspector)'
    : 'readings after 1 s of quiet; a full GC could not be asked for (inspector unavailable): garbage may count';

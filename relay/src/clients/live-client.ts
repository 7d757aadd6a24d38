/**
 * A client record as the admin API shows it: the stored counters, joined with what is live now.
 * A client's health comes from its bridges' readiness as well as its outcomes (a client whose
 * only bridge is down is not "healthy" because its last requests went well), and a client with
 * an agent connected is seen now, not when that agent connected.
 */
import type { ClientHealth, ClientRecord } from '../store/store.js';

/** One connected agent, on this relay or another of the cluster. */
export type LiveAgent = { clientId: string; ready: boolean; draining: boolean };

export type LiveClient = ClientRecord & {
  /** Agent sockets of this client connected to the cluster now. */
  agents_connected: number;
  /** Of those, the ones whose bridge serves (ready and not draining). */
  agents_ready: number;
};

/** Counts of connected and ready agents per client. */
export function liveCounts(agents: Iterable<LiveAgent>): Map<string, { connected: number; ready: number }> {
  const counts = new Map<string, { connected: number; ready: number }>();
  for (const agent of agents) {
    const count = counts.get(agent.clientId) ?? { connected: 0, ready: 0 };
    count.connected++;
    if (agent.ready && !agent.draining) count.ready++;
    counts.set(agent.clientId, count);
  }
  return counts;
}

/**
 * The health a client is shown: with agents connected and none ready, `unhealthy` whatever its
 * outcomes; with some not ready, at best `degraded`; with every one ready (or none connected),
 * what its outcomes say.
 */
export function liveHealth(outcomes: ClientHealth, connected: number, ready: number): ClientHealth {
  if (connected === 0 || ready === connected) return outcomes;
  if (ready === 0) return 'unhealthy';
  return outcomes === 'unhealthy' ? 'unhealthy' : 'degraded';
}

export function liveClient(
  client: ClientRecord,
  counts: ReadonlyMap<string, { connected: number; ready: number }>,
  now: Date,
): LiveClient {
  const { connected, ready } = counts.get(client.id) ?? { connected: 0, ready: 0 };
  return {
    ...client,
    last_seen: connected > 0 ? now.toISOString() : client.last_seen,
    health: liveHealth(client.health, connected, ready),
    agents_connected: connected,
    agents_ready: ready,
  };
}

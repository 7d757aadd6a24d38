/**
 * Operator figures, cluster-wide: `GET /api/stats` (every relay's rolling windows — last minute,
 * hour, day — summed overall, per client and per key, with each relay's own under `relays`) and
 * `GET /api/providers/status` (the seed's summary shape, from the store's durable per-client
 * counters, which cover every relay sharing the store; active clients from every relay's agents;
 * relays that did not answer are named in the `x-relays-unreachable` header).
 */
import { truncateUtf8 } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { z } from 'zod';
import { clusterQuery } from '../cluster/cluster-view.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import type { RequestStats } from '../metrics/request-stats.js';
import { mergeSnapshots } from '../metrics/stats-merge.js';

/** The seed's `/api/providers/status` body. Rates are fractions (0–1). */
export type ProvidersStatus = {
  distributed_clients: {
    enabled: true;
    total_clients: number;
    routing_stats: {
      total_clients: number;
      /** Clients with at least one agent connected to a relay of the cluster. */
      active_clients: number;
      total_requests: number;
      successful_requests: number;
      failed_requests: number;
      success_rate: number;
      failure_rate: number;
      load_balancing_strategy: string;
    };
  };
};

/** Relays that did not answer in time, for the header of the seed-shaped answer (its body stays exact). */
export const UNREACHABLE_HEADER = 'x-relays-unreachable';

const ratio = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;

export function statsRoutes(app: Hono<AppEnv>, deps: AppDeps & { stats: RequestStats }): void {
  const none = z.null();
  const stats = clusterQuery(deps, 'stats', none, () => ({
    relay: deps.relayId,
    ...deps.stats.snapshot(),
    live: {
      agents: deps.hub.sessions.size,
      streams_in_flight: deps.registry.size,
      queue_depth: deps.router.queueDepth,
    },
  }));
  const activeClients = clusterQuery(deps, 'active-clients', none, () => [
    ...new Set(deps.hub.list().map((s) => s.client.id)),
  ]);

  app.get('/api/stats', async (c) => {
    const { answers, unreachable } = await stats(null);
    const members = answers.map((a) => a.value);
    const live = (field: keyof (typeof members)[number]['live']) =>
      members.reduce((sum, m) => sum + m.live[field], 0);
    return c.json({
      relay: deps.relayId,
      ...mergeSnapshots(members),
      live: {
        agents: live('agents'),
        streams_in_flight: live('streams_in_flight'),
        queue_depth: live('queue_depth'),
      },
      // Each relay's own overall figures (its clients and keys are in the sums above).
      relays: members.map((m) => ({ relay: m.relay, overall: m.overall, live: m.live })),
      unreachable,
    });
  });

  app.get('/api/providers/status', async (c) => {
    const [clients, asked] = await Promise.all([deps.store.listClients(), activeClients(null)]);
    const active = new Set(asked.answers.flatMap((a) => a.value));
    let total = 0;
    let ok = 0;
    let failed = 0;
    for (const client of clients) {
      total += client.total_requests;
      ok += client.successful_requests;
      failed += client.failed_requests;
    }
    const body: ProvidersStatus = {
      distributed_clients: {
        enabled: true,
        total_clients: clients.length,
        routing_stats: {
          total_clients: clients.length,
          active_clients: clients.filter((client) => active.has(client.id)).length,
          total_requests: total,
          successful_requests: ok,
          failed_requests: failed,
          success_rate: ratio(ok, total),
          failure_rate: ratio(failed, total),
          load_balancing_strategy: deps.config.loadBalancing,
        },
      },
    };
    // Their agents are missing from active_clients: say so without changing the seed's shape.
    if (asked.unreachable.length > 0) {
      c.header(UNREACHABLE_HEADER, truncateUtf8(asked.unreachable.map((u) => u.relay).join(','), 1024));
    }
    return c.json(body);
  });
}

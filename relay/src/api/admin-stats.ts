/**
 * Operator figures: `GET /api/stats` (this relay's rolling windows — last minute, hour, day —
 * overall, per client and per key) and `GET /api/providers/status` (the seed's summary shape,
 * from the store's durable per-client counters, so it covers every relay sharing the store).
 */
import type { Hono } from 'hono';
import type { RequestStats } from '../metrics/request-stats.js';
import type { AppDeps, AppEnv } from './context.js';

/** The seed's `/api/providers/status` body. Rates are fractions (0–1). */
export type ProvidersStatus = {
  distributed_clients: {
    enabled: true;
    total_clients: number;
    routing_stats: {
      total_clients: number;
      /** Clients with at least one agent connected to this relay. */
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

const ratio = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;

export function statsRoutes(app: Hono<AppEnv>, deps: AppDeps & { stats: RequestStats }): void {
  app.get('/api/stats', (c) => {
    const snapshot = deps.stats.snapshot();
    return c.json({
      relay: deps.relayId,
      ...snapshot,
      live: {
        agents: deps.hub.sessions.size,
        streams_in_flight: deps.registry.size,
        queue_depth: deps.router.queueDepth,
      },
    });
  });

  app.get('/api/providers/status', async (c) => {
    const clients = await deps.store.listClients();
    const active = new Set(deps.hub.list().map((s) => s.client.id));
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
    return c.json(body);
  });
}

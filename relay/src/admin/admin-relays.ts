/**
 * `GET /api/relays`: the members of the cluster, as each says of itself (id, version, uptime,
 * agents, streams, how its Redis connections are doing). Members that do not answer within the
 * cluster query bound are listed with `reachable: false`. A relay without Redis lists itself.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { clusterQuery } from '../cluster/cluster-view.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import type { RedisState } from '../store/redis-connection.js';
import { RELAY_VERSION } from '../version.js';

export type RelayRow = {
  id: string;
  reachable: true;
  version: string;
  started_at: string;
  uptime_seconds: number;
  agents: number;
  streams_in_flight: number;
  /** Refusing new requests (shutting down). */
  draining: boolean;
  redis: RedisState | { mode: 'none'; master: null; connections: Record<string, never> };
};

export function relayRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const startedAt = Date.now();
  const describe = clusterQuery(
    deps,
    'relay',
    z.null(),
    (): RelayRow => ({
      id: deps.relayId,
      reachable: true,
      version: RELAY_VERSION,
      started_at: new Date(startedAt).toISOString(),
      uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      agents: deps.hub.sessions.size,
      streams_in_flight: deps.registry.size,
      draining: deps.lifecycle.draining,
      redis: deps.cluster?.redisState() ?? { mode: 'none', master: null, connections: {} },
    }),
  );

  app.get('/api/relays', async (c) => {
    const { answers, unreachable } = await describe(null);
    return c.json({
      relay: deps.relayId,
      relays: [
        ...answers.map((a) => a.value),
        ...unreachable.map((u) => ({ id: u.relay, reachable: false, error: u.error, message: u.message })),
      ],
    });
  });
}

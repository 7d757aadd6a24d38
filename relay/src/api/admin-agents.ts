/** Admin API over live sockets: list agents, drain or kick one, list streams in flight. */

import { BRIDGE_REASON_FIXES, CloseCode } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from './context.js';

/** How many connected agents are not ready, per reason code (`unknown`: an agent too old to say). */
function notReadyByReason(
  sessions: ReadonlyArray<{ ready: boolean; draining: boolean; readyCode: string | undefined }>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of sessions) {
    if (s.ready || s.draining) continue;
    const code = s.readyCode ?? 'unknown';
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

export function adminAgentRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { hub, router, registry } = deps;

  const sessionOr404 = (id: string) => {
    const session = hub.sessions.get(id);
    if (!session) throw new RelayError('not_found', `no connected agent with id '${id}'`);
    return session;
  };

  app.get('/api/agents', (c) =>
    c.json({
      agents: hub.list().map((s) => {
        const cooldown = router.cooldown.state(s.agentKey);
        return {
          id: s.id,
          client_id: s.client.id,
          client_name: s.client.name,
          connected_since: s.connectedAt.toISOString(),
          remote_address: s.remoteAddress,
          agent_version: s.hello?.agentVersion ?? null,
          models: [...s.models],
          capabilities: s.hello?.capabilities ?? [],
          max_concurrency: s.maxConcurrency,
          in_flight: s.inFlight,
          ready: s.ready,
          ready_reason: s.readyReason ?? null,
          ready_code: s.ready ? null : (s.readyCode ?? null),
          ready_fix: !s.ready && s.readyCode ? BRIDGE_REASON_FIXES[s.readyCode] : null,
          draining: s.draining,
          last_heartbeat: s.lastHeartbeatAt?.toISOString() ?? null,
          rtt_ms: s.rttMs ?? null,
          ttfb_ewma_ms: s.ttfbEwmaMs === undefined ? null : Math.round(s.ttfbEwmaMs),
          cooldown: cooldown
            ? {
                benched: router.cooldown.benched(s.agentKey),
                until: cooldown.until ? new Date(cooldown.until).toISOString() : null,
                trips: cooldown.trips,
                recent_failures: cooldown.failures,
                reason: cooldown.reason ?? null,
              }
            : null,
        };
      }),
      queue_depth: router.queueDepth,
      not_ready_by_reason: notReadyByReason(hub.list()),
    }),
  );

  app.post('/api/agents/:id/drain', (c) => {
    const session = sessionOr404(c.req.param('id'));
    session.drain('drained by an operator');
    return c.json({ id: session.id, draining: true, in_flight: session.inFlight });
  });

  app.delete('/api/agents/:id', (c) => {
    const session = sessionOr404(c.req.param('id'));
    session.close(CloseCode.KICKED, 'disconnected by an operator');
    return c.json({ id: session.id, disconnected: true });
  });

  app.get('/api/streams', (c) =>
    c.json({
      streams: registry.list().map((e) => ({
        id: e.id,
        key_id: e.keyId,
        client_id: e.clientId ?? null,
        agent_id: e.agentId ?? null,
        model: e.model,
        stream: e.stream,
        started: e.startedAt.toISOString(),
        bytes: e.bytes,
        relay: deps.relayId,
      })),
    }),
  );
}

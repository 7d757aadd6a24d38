/**
 * Admin API over live sockets, cluster-wide: list the agent connections of every relay, drain or
 * kick one wherever it is connected, list the streams in flight everywhere. Each row names its
 * relay; relays that do not answer within the cluster query bound are listed as unreachable.
 */

import { BRIDGE_REASON_FIXES, CloseCode } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { z } from 'zod';
import { type ClusterAnswers, clusterQuery } from '../cluster/cluster-view.js';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import type { AgentSession } from '../tunnel/agent-session.js';

const none = z.null();
const agentRef = z.strictObject({ id: z.string().min(1).max(256) });

/** How many connected agents are not ready, per reason code (`unknown`: an agent too old to say). */
function notReadyByReason(
  rows: ReadonlyArray<{ ready: boolean; draining: boolean; ready_code: string | null }>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    if (row.ready || row.draining) continue;
    const code = row.ready_code ?? 'unknown';
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

/** An id no relay could hold (too long, empty) is refused here rather than asked around. */
function checkedId(id: string): string {
  if (!agentRef.safeParse({ id }).success)
    throw new RelayError('not_found', 'no connected agent with that id');
  return id;
}

/** The answer of the relay that held the agent, or a 404 naming the relays that could not say. */
function found<T>(id: string, asked: ClusterAnswers<T | null>): T {
  const hit = asked.answers.find((a) => a.value !== null)?.value;
  if (hit) return hit;
  const silent = asked.unreachable.map((u) => u.relay);
  throw new RelayError(
    'not_found',
    `no connected agent with id '${id}'${silent.length ? ` (not answering: ${silent.join(', ')})` : ''}`,
  );
}

export function adminAgentRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { hub, router, registry, relayId } = deps;

  const row = (s: AgentSession) => {
    const cooldown = router.cooldownState(s.agentKey);
    return {
      id: s.id,
      relay: relayId,
      client_id: s.client.id,
      client_name: s.client.name,
      connected_since: s.connectedAt.toISOString(),
      remote_address: s.remoteAddress,
      agent_version: s.hello?.agentVersion ?? null,
      // The bridge dialect the agent found (`bridge: auto`) or was told; null from older agents.
      bridge: s.hello?.dialect ?? null,
      prompt_limit_chars: s.hello?.promptLimitChars ?? null,
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
            benched: cooldown.benched,
            until: cooldown.until ? new Date(cooldown.until).toISOString() : null,
            trips: cooldown.trips,
            recent_failures: cooldown.failures,
            reason: cooldown.reason ?? null,
          }
        : null,
    };
  };

  const agents = clusterQuery(deps, 'agents', none, () => ({
    agents: hub.list().map(row),
    queue_depth: router.queueDepth,
  }));
  const streams = clusterQuery(deps, 'streams', none, () =>
    registry.list().map((e) => ({
      id: e.request.requestId,
      key_id: e.request.keyId,
      client_id: e.clientId ?? null,
      agent_id: e.agentId ?? null,
      model: e.request.model,
      stream: e.request.stream,
      started: e.startedAt.toISOString(),
      bytes: e.bytes,
      relay: relayId,
    })),
  );
  const drain = clusterQuery(deps, 'agent-drain', agentRef, ({ id }) => {
    const session = hub.sessions.get(id);
    if (!session) return null;
    session.drain('drained by an operator');
    return { id: session.id, relay: relayId, draining: true, in_flight: session.inFlight };
  });
  const kick = clusterQuery(deps, 'agent-kick', agentRef, ({ id }) => {
    const session = hub.sessions.get(id);
    if (!session) return null;
    session.close(CloseCode.KICKED, 'disconnected by an operator');
    return { id: session.id, relay: relayId, disconnected: true };
  });

  app.get('/api/agents', async (c) => {
    const { answers, unreachable } = await agents(null);
    const rows = answers.flatMap((a) => a.value.agents);
    return c.json({
      agents: rows,
      queue_depth: answers.reduce((sum, a) => sum + a.value.queue_depth, 0),
      not_ready_by_reason: notReadyByReason(rows),
      unreachable,
    });
  });

  app.post('/api/agents/:id/drain', async (c) => {
    const id = checkedId(c.req.param('id'));
    // An agent of this relay is drained without asking the others.
    if (hub.sessions.has(id)) return c.json((await drain.local({ id }))!);
    return c.json(found(id, await drain({ id })));
  });

  app.delete('/api/agents/:id', async (c) => {
    const id = checkedId(c.req.param('id'));
    if (hub.sessions.has(id)) return c.json((await kick.local({ id }))!);
    return c.json(found(id, await kick({ id })));
  });

  app.get('/api/streams', async (c) => {
    const { answers, unreachable } = await streams(null);
    return c.json({ streams: answers.flatMap((a) => a.value), unreachable });
  });
}

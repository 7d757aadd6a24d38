/**
 * `POST /api/clients/health`: a health round trip over every live agent socket of the cluster, all
 * at once (each relay checks its own sockets; a relay that does not answer within the timeout
 * plus the cluster query bound is listed under `unreachable`). The relay sends `{type:'health', id}`; the agent probes its bridge and answers with the
 * same id. Each answer comes with the round-trip time and the agent's bridge probe; an agent that
 * does not answer within the timeout (or whose socket closes) is reported as such.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { clusterQuery } from '../cluster/cluster-view.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import type { AgentSession } from '../tunnel/agent-session.js';

/** Per-agent wait for an answer, ms. Above the agent's own 5 s bridge probe timeout. */
export const HEALTH_TIMEOUT_MS = 8_000;

const healthBody = z.strictObject({
  /** Only the agents of this client. */
  client_id: z.string().min(1).max(128).optional(),
  timeout_ms: z.int().min(100).max(60_000).default(HEALTH_TIMEOUT_MS),
});

export type AgentHealth = {
  agent_id: string;
  /** The relay the agent's socket is on. */
  relay: string;
  client_id: string;
  client_name: string;
  /** The agent answered and its bridge probe succeeded. */
  ok: boolean;
  /** `answered`, `timeout` (no answer in time) or `disconnected` (socket closed meanwhile). */
  result: 'answered' | 'timeout' | 'disconnected';
  round_trip_ms: number;
  bridge: { ok: boolean; status: number | null; latency_ms: number; reason: string | null } | null;
  ready: boolean;
  in_flight: number;
};

async function check(session: AgentSession, relay: string, timeoutMs: number): Promise<AgentHealth> {
  const started = performance.now();
  const answer = await session.health(timeoutMs);
  const roundTrip = Math.round(performance.now() - started);
  const bridge = answer?.bridge;
  return {
    agent_id: session.id,
    relay,
    client_id: session.client.id,
    client_name: session.client.name,
    ok: bridge?.ok === true,
    result: answer ? 'answered' : session.closed ? 'disconnected' : 'timeout',
    round_trip_ms: roundTrip,
    bridge: bridge
      ? {
          ok: bridge.ok,
          status: bridge.status ?? null,
          latency_ms: Math.round(bridge.latencyMs),
          reason: bridge.reason ?? null,
        }
      : null,
    ready: session.ready,
    in_flight: session.inFlight,
  };
}

export function healthRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const checkAll = clusterQuery(deps, 'health', healthBody, (input) => {
    const sessions = deps.hub.list().filter((s) => !input.client_id || s.client.id === input.client_id);
    return Promise.all(sessions.map((s) => check(s, deps.relayId, input.timeout_ms)));
  });

  // `POST /api/clients/health`, registered as `/api/clients/:id` and checked here: the static
  // path beside `/api/clients/:id/rotate-token` would push Hono from its RegExpRouter to the trie
  // router, whose search allocated ~3 KB and cost ~1.5 % of every chat request in the profiles.
  app.post('/api/clients/:id', async (c, next) => {
    if (c.req.param('id') !== 'health') return next();
    // An empty body means "every agent, default timeout".
    const text = await c.req.text();
    const input = await body(async () => (text.trim() === '' ? {} : JSON.parse(text)), healthBody);
    const started = performance.now();
    const bound = input.timeout_ms + deps.config.clusterQueryTimeoutMs;
    const { answers, unreachable } = await checkAll(input, { timeoutMs: bound });
    const agents = answers.flatMap((a) => a.value);
    return c.json({
      checked_at: new Date().toISOString(),
      relay: deps.relayId,
      timeout_ms: input.timeout_ms,
      duration_ms: Math.round(performance.now() - started),
      summary: {
        agents: agents.length,
        healthy: agents.filter((a) => a.ok).length,
        unhealthy: agents.filter((a) => a.result === 'answered' && !a.ok).length,
        unresponsive: agents.filter((a) => a.result !== 'answered').length,
      },
      agents,
      unreachable,
    });
  });
}

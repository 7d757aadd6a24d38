/**
 * One cluster-wide view: three relays sharing one Redis, an agent on each. Every relay answers
 * `/api/agents`, `/api/streams`, `/api/stats`, `/api/providers/status`, `POST /api/clients/health`
 * and `/api/relays` with the union of the members' views (each row naming its relay); drain and
 * kick reach an agent on another relay; a member that is still listed in Redis but does not
 * answer (frozen, or dead without leaving) is listed as unreachable within the bound.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCode } from '@arena-relay/shared';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent, type RawAgent } from './support/raw-agent.js';
import type { TestRelay } from './support/relay.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';
import { startRelayProcess } from './support/relay-process.js';
import { REDIS_TEST_URL } from './support/store-backends.js';

/** Waits until every relay sees the `others` other members (and their adverts). */
async function settled(relays: TestRelay[], agents: number) {
  for (const r of relays) {
    await expect.poll(() => r.cluster!.membership.relays().length).toBe(relays.length - 1);
    await expect.poll(() => r.hub.sessions.size + r.cluster!.remoteAgents().length).toBe(agents);
  }
}

/**
 * A member as Redis sees it: heartbeating in the relay set, but either frozen (subscribed to its
 * query channel, never answering) or dead without leaving (nobody subscribed).
 */
async function ghost(prefix: string, id: string, mode: 'frozen' | 'dead') {
  const redis = new Redis(REDIS_TEST_URL);
  const sub = new Redis(REDIS_TEST_URL);
  if (mode === 'frozen') await sub.subscribe(`${prefix}cluster:query:${id}`);
  const beat = () => redis.zadd(`${prefix}cluster:relays`, Date.now(), id);
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), 100);
  track({
    close() {
      clearInterval(timer);
      redis.disconnect();
      sub.disconnect();
    },
  });
}

/** /api/relays reports relay/package.json's version (relay/src/version.ts must follow it). */
const RELAY_VERSION = (
  JSON.parse(readFileSync(new URL('../relay/package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const sessionOf = (agent: RawAgent) => {
  const welcome = agent.frames.find((f) => f.type === 'welcome');
  if (welcome?.type !== 'welcome') throw new Error('no welcome');
  return welcome.sessionId;
};

const chatBody = JSON.stringify({
  model: 'gpt-5',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('cluster-wide admin views', () => {
  it('every relay answers for the whole cluster: the union of the members’ views', async () => {
    const { relays } = await startTestCluster(3);
    const [a, b, c] = relays as [TestRelay, TestRelay, TestRelay];
    const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 3000 }));
    const agents = [];
    for (const [i, r] of relays.entries()) {
      const { token } = await a.createClient(`bridge é ${i}`);
      agents.push({ relay: r.relayId, id: (await startTestAgent(r.url, token, bridge.url)).sessionId });
    }
    await settled(relays, 3);
    const byId = (rows: Array<{ id: string; relay: string }>) =>
      rows.map((r) => ({ relay: r.relay, id: r.id })).sort((x, y) => x.id.localeCompare(y.id));
    const expected = [...agents].sort((x, y) => x.id.localeCompare(y.id));

    // A stream in flight on relay B (its consumer's relay), wherever its agent is.
    const { key } = await a.createKey();
    const controller = new AbortController();
    const inFlight = await fetch(`${b.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: chatBody,
      signal: controller.signal,
    });
    const reader = inFlight.body!.getReader();
    await reader.read();

    for (const r of relays) {
      const list = await r.admin('GET', '/api/agents');
      expect(list.status).toBe(200);
      expect(byId(list.json.agents)).toEqual(expected);
      expect(list.json.unreachable).toEqual([]);
      expect(
        list.json.agents.every((row: { client_name: string }) => row.client_name.startsWith('bridge é')),
      ).toBe(true);

      const streams = await r.admin('GET', '/api/streams');
      expect(streams.json.streams).toHaveLength(1);
      expect(streams.json.streams[0]).toMatchObject({ relay: b.relayId, model: 'gpt-5', stream: true });
      expect(streams.json.unreachable).toEqual([]);

      const members = await r.admin('GET', '/api/relays');
      expect(members.status).toBe(200);
      expect(members.json.relay).toBe(r.relayId);
      expect(members.json.relays.map((m: { id: string }) => m.id).sort()).toEqual(
        relays.map((x) => x.relayId).sort(),
      );
      for (const m of members.json.relays) {
        expect(m).toMatchObject({ reachable: true, version: RELAY_VERSION, agents: 1, draining: false });
        expect(m.uptime_seconds).toBeGreaterThanOrEqual(0);
        expect(m.redis.mode).toBe('single');
        expect(m.redis.connections.cluster).toBe('ready');
        expect(m.streams_in_flight).toBe(m.id === b.relayId ? 1 : 0);
      }

      const providers = await r.admin('GET', '/api/providers/status');
      expect(providers.json.distributed_clients.routing_stats.active_clients).toBe(3);
      // Exactly the seed's shape: nothing added to the body.
      expect(Object.keys(providers.json)).toEqual(['distributed_clients']);

      const health = await r.admin('POST', '/api/clients/health', { timeout_ms: 5000 });
      expect(health.status).toBe(200);
      expect(health.json.summary).toMatchObject({ agents: 3, healthy: 3 });
      expect(
        health.json.agents
          .map((h: { relay: string; agent_id: string }) => ({ relay: h.relay, id: h.agent_id }))
          .sort((x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id)),
      ).toEqual(expected);
    }
    controller.abort();
    await reader.cancel().catch(() => undefined);

    // Finished requests on two relays: every relay's stats count both, and each relay's own.
    bridge.scenario = 'ok';
    for (const r of [a, c]) {
      const res = await fetch(`${r.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: chatBody,
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    for (const r of relays) {
      // The aborted stream on B ends (cancelled) once its exchange has wound down.
      await expect.poll(async () => (await r.admin('GET', '/api/stats')).json.overall.hour.requests).toBe(3);
      const stats = (await r.admin('GET', '/api/stats')).json;
      expect(stats.relay).toBe(r.relayId);
      expect(stats.overall.hour).toMatchObject({ successful: 2, cancelled: 1 });
      expect(stats.live.agents).toBe(3);
      expect(stats.unreachable).toEqual([]);
      const own = Object.fromEntries(
        stats.relays.map((m: { relay: string; overall: { hour: { requests: number } } }) => [
          m.relay,
          m.overall.hour.requests,
        ]),
      );
      expect(own).toEqual({ [a.relayId]: 1, [b.relayId]: 1, [c.relayId]: 1 });
      expect(stats.keys).toHaveLength(1);
      expect(stats.keys[0].hour.requests).toBe(3);
      expect(stats.overall.timeline.requests.reduce((x: number, y: number) => x + y, 0)).toBe(3);
    }
  });

  it('drains and kicks an agent wherever it is connected', async () => {
    const { relays } = await startTestCluster(3);
    const [a, b, c] = relays as [TestRelay, TestRelay, TestRelay];
    const onB = await connectRawAgent(b.url, (await a.createClient()).token);
    const onC = await connectRawAgent(c.url, (await a.createClient()).token);
    const [idB, idC] = [sessionOf(onB), sessionOf(onC)];
    await settled(relays, 2);

    const drained = await a.admin('POST', `/api/agents/${idB}/drain`);
    expect(drained.status).toBe(200);
    expect(drained.json).toEqual({ id: idB, relay: b.relayId, draining: true, in_flight: 0 });
    await onB.next('drain');
    expect(b.hub.sessions.get(idB)?.draining).toBe(true);
    // Seen draining from every relay.
    for (const r of relays) {
      await expect
        .poll(
          async () =>
            (await r.admin('GET', '/api/agents')).json.agents.find((x: { id: string }) => x.id === idB)
              ?.draining,
        )
        .toBe(true);
    }

    const kicked = await b.admin('DELETE', `/api/agents/${idC}`);
    expect(kicked.status).toBe(200);
    expect(kicked.json).toEqual({ id: idC, relay: c.relayId, disconnected: true });
    expect((await onC.closed).code).toBe(CloseCode.KICKED);

    // An id no relay holds: 404 from any of them.
    const missing = await c.admin('DELETE', '/api/agents/agt_nobody');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe("no connected agent with id 'agt_nobody'");
    // An id no relay could hold is refused without asking around.
    const long = await a.admin('POST', `/api/agents/${encodeURIComponent('é'.repeat(300))}/drain`);
    expect(long.status).toBe(404);
    expect(long.json.error.message).toBe('no connected agent with that id');
  });

  it('a member that does not answer is listed as unreachable within the bound, not waited for', async () => {
    const { prefix, relays } = await startTestCluster(2, 250, { clusterQueryTimeoutMs: 300 });
    const [a, b] = relays as [TestRelay, TestRelay];
    await connectRawAgent(b.url, (await a.createClient()).token);
    await ghost(prefix, 'rly_frozen', 'frozen');
    await ghost(prefix, 'rly_dead', 'dead');
    await expect
      .poll(() => a.cluster!.membership.relays().sort())
      .toEqual([b.relayId, 'rly_dead', 'rly_frozen'].sort());
    await expect.poll(() => a.cluster!.remoteAgents().length).toBe(1);

    const unreachable = (json: { unreachable: Array<{ relay: string; error: string }> }) =>
      Object.fromEntries(json.unreachable.map((u) => [u.relay, u.error]));
    const gone = { rly_frozen: 'timeout', rly_dead: 'unreachable' };

    const list = (await a.admin('GET', '/api/agents')).json;
    expect(list.agents).toHaveLength(1);
    expect(list.agents[0].relay).toBe(b.relayId);
    expect(unreachable(list)).toEqual(gone);

    const members = (await a.admin('GET', '/api/relays')).json.relays;
    expect(
      Object.fromEntries(members.map((m: { id: string; reachable: boolean }) => [m.id, m.reachable])),
    ).toEqual({ [a.relayId]: true, [b.relayId]: true, rly_frozen: false, rly_dead: false });
    expect(members.find((m: { id: string }) => m.id === 'rly_frozen')).toMatchObject({
      error: 'timeout',
      message: 'no answer within 300 ms',
    });

    expect(unreachable((await a.admin('GET', '/api/streams')).json)).toEqual(gone);
    expect(unreachable((await a.admin('GET', '/api/stats')).json)).toEqual(gone);
    const providers = await fetch(`${a.url}/api/providers/status`, {
      headers: { authorization: `Bearer ${a.adminToken}` },
    });
    expect(providers.status).toBe(200);
    expect(providers.headers.get('x-relays-unreachable')?.split(',').sort()).toEqual([
      'rly_dead',
      'rly_frozen',
    ]);
    // Health waits for its own timeout plus the bound, then lists the frozen member.
    const health = (await a.admin('POST', '/api/clients/health', { timeout_ms: 500 })).json;
    expect(health.summary.agents).toBe(1);
    expect(unreachable(health)).toEqual(gone);
    // Drain of an agent nobody answering holds: 404 naming who could not say.
    const missing = await a.admin('POST', '/api/agents/agt_nobody/drain');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toContain('rly_frozen');
  });

  it('a relay process killed (-9) while still listed in Redis shows as unreachable at once', async () => {
    // Heartbeats every 2 s: a dead relay stays listed for up to 6 s, the window this test looks in.
    const { prefix, relays } = await startTestCluster(1, 2000);
    const a = relays[0]!;
    const child = await startRelayProcess({
      ADMIN_TOKEN,
      REDIS_URL: REDIS_TEST_URL,
      REDIS_PREFIX: prefix,
      CLUSTER_HEARTBEAT_INTERVAL: '2',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-cluster-admin-')),
    });
    const self = await fetch(`${child.url}/api/relays`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const childId = ((await self.json()) as { relay: string }).relay;
    const reachable = async () => {
      const members = (await a.admin('GET', '/api/relays')).json.relays as Array<{
        id: string;
        reachable: boolean;
      }>;
      return members.find((m) => m.id === childId)?.reachable;
    };
    await expect.poll(reachable, { timeout: 10_000 }).toBe(true);
    child.child.kill('SIGKILL');
    await child.exited;
    // Its heartbeat is still in Redis, but nobody listens on its channel any more.
    expect(a.cluster!.membership.relays()).toContain(childId);
    expect(await reachable()).toBe(false);
    const list = (await a.admin('GET', '/api/agents')).json;
    expect(list.unreachable).toEqual([
      { relay: childId, error: 'unreachable', message: 'no relay listening' },
    ]);
  });

  it('a relay without Redis answers for itself alone, in the same shapes', async () => {
    const relay = await startTestRelay();
    const raw = await connectRawAgent(relay.url, (await relay.createClient()).token);
    const id = sessionOf(raw);
    const list = (await relay.admin('GET', '/api/agents')).json;
    expect(list.agents.map((x: { id: string; relay: string }) => [x.id, x.relay])).toEqual([
      [id, relay.relayId],
    ]);
    expect(list.unreachable).toEqual([]);
    const members = (await relay.admin('GET', '/api/relays')).json.relays;
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({
      id: relay.relayId,
      reachable: true,
      agents: 1,
      redis: { mode: 'none', master: null, connections: {} },
    });
    expect((await relay.admin('GET', '/api/stats')).json.relays).toHaveLength(1);
    const drained = await relay.admin('POST', `/api/agents/${id}/drain`);
    expect(drained.json).toMatchObject({ id, relay: relay.relayId, draining: true });
    expect((await relay.admin('DELETE', '/api/agents/agt_nobody')).status).toBe(404);
    // Behind the admin guard like every /api route.
    expect((await fetch(`${relay.url}/api/relays`)).status).toBe(401);
  });
});

/**
 * Issue 15 items 3 and 5 through relay + agent + fake bridge: each reason a bridge cannot serve
 * shows as a stable code on /api/agents, /metrics and the agent's status page, routing passes the
 * agent over until the bridge is back, and failures the request or the model caused never bench
 * the bridge for everyone. Every in-band message gets one status, streamed or not.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { type FakeBridgeScenario, startFakeBridge } from './support/fake-bridge.js';
import { startPool } from './support/pool.js';
import { parsePrometheus } from './support/prometheus.js';
import { startTestRelay } from './support/relay.js';

type AgentRow = {
  client_id: string;
  ready: boolean;
  ready_code: string | null;
  ready_fix: string | null;
  cooldown: { benched: boolean } | null;
};

/** One relay, one agent (status server on), one fake bridge. */
async function single(options: { rateLimitRetryAfter?: number } = {}) {
  const relay = await startTestRelay({ retryAttempts: 0 });
  const { key } = await relay.createKey();
  const bridge = track(await startFakeBridge(options));
  const client = await relay.createClient('owner');
  // Reasons the probe cannot see are held for 10–30 s in production; shortened here.
  const agent = await startTestAgent(
    relay.url,
    client.token,
    bridge.url,
    { statusPort: 0, maxConcurrency: 4 },
    { reasonHoldMs: { session_expired: 300, recaptcha_failed: 300 } },
  );
  const chat = (body: Record<string, unknown> = {}) =>
    fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
  const row = async (): Promise<AgentRow> => (await relay.admin('GET', '/api/agents')).json.agents[0];
  const status = async () =>
    (await fetch(`${agent.statusUrl}/platform/status`)).json() as Promise<Record<string, unknown>>;
  return { relay, bridge, agent, chat, row, status };
}

describe('why the bridge is not serving', () => {
  it.each([
    ['cloudflare', 'cloudflare_challenge', 'pass the check'],
    ['browser-disconnect', 'userscript_disconnected', 'userscript enabled'],
    ['tab-closed', 'userscript_disconnected', 'userscript enabled'],
    ['session-expired', 'session_expired', 'sign in again'],
    ['recaptcha', 'recaptcha_failed', 'reCAPTCHA'],
    ['rate-limited', 'upstream_rate_limited', 'rate-limiting'],
  ] as const)(
    '%s: shows %s everywhere, routing passes the agent over, then serves it again',
    async (scenario, code, fix) => {
      const s = await single({ rateLimitRetryAfter: 1 });
      s.bridge.scenario = scenario as FakeBridgeScenario;
      const failed = await s.chat({ stream: true });
      expect(failed.status).toBe(503);
      expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('upstream_unavailable');

      await expect.poll(async () => (await s.row()).ready_code, { timeout: 3000 }).toBe(code);
      const row = await s.row();
      expect(row).toMatchObject({ ready: false, ready_code: code, ready_fix: expect.stringContaining(fix) });
      // The dialect `bridge: auto` found, as the agent's hello said it.
      expect(row).toMatchObject({ bridge: 'lmarenabridge-v2', prompt_limit_chars: null });
      // One bridge-wide failure counts against the agent but readiness, not the cooldown, benches it.
      expect(row.cooldown?.benched ?? false).toBe(false);
      expect(await s.status()).toMatchObject({ ready: false, ready_code: code, ready_fix: row.ready_fix });
      const page = await (await fetch(`${s.agent.statusUrl}/`)).text();
      expect(page).toContain(code);
      expect((await s.relay.admin('GET', '/api/agents')).json.not_ready_by_reason).toEqual({ [code]: 1 });
      const metrics = parsePrometheus(await (await fetch(`${s.relay.url}/metrics`)).text());
      expect(metrics.value('arena_relay_agents_not_ready', { reason: code })).toBe(1);

      // Passed over: the one agent is not ready, so nothing reaches its bridge.
      const before = s.bridge.requests.length;
      const passed = await s.chat();
      expect(passed.status).toBe(503);
      expect(s.bridge.requests.length).toBe(before);

      // The bridge recovers; within 2 s (after any wait LMArena asked for) the agent serves again.
      // The 2 s bound itself is the backoff's fake-timer unit test; this poll leaves room for load.
      s.bridge.reset();
      await expect.poll(async () => (await s.row()).ready, { timeout: 5000, interval: 50 }).toBe(true);
      expect((await s.row()).ready_code).toBeNull();
      expect((await s.relay.admin('GET', '/api/agents')).json.not_ready_by_reason).toEqual({});
      const served = await s.chat();
      expect(served.status).toBe(200);
      const after = parsePrometheus(await (await fetch(`${s.relay.url}/metrics`)).text());
      expect(after.value('arena_relay_agents_not_ready', { reason: code })).toBe(0);
    },
  );

  it('bridge process down: bridge_down, and back once it listens again', async () => {
    const relay = await startTestRelay({ retryAttempts: 0 });
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge());
    const client = await relay.createClient('owner');
    await startTestAgent(relay.url, client.token, bridge.url, { statusPort: 0 });
    const port = bridge.port;
    await bridge.close();
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(503);
    const row = async () => (await relay.admin('GET', '/api/agents')).json.agents[0] as AgentRow;
    await expect.poll(async () => (await row()).ready_code, { timeout: 3000 }).toBe('bridge_down');
    expect((await row()).ready_fix).toContain('start the bridge');
    track(await startFakeBridge({ port }));
    await expect.poll(async () => (await row()).ready, { timeout: 4000, interval: 50 }).toBe(true);
  });
});

describe('who a failure is on', () => {
  it('three oversized attachments in a row leave every other consumer served: 413 each, nothing benched', async () => {
    const pool = await startPool(1, { relay: { cooldownFailures: 3 } });
    const bridge = pool.members[0]!.bridge;
    for (const stream of [true, false, true]) {
      bridge.scenario = 'attachment-too-large';
      const res = await pool.chat({ stream });
      // Streamed or not, the same failure gets the same status.
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'upstream_rejected',
        message: expect.stringContaining('附件大小超过了'),
      });
    }
    // Four in parallel too.
    const parallel = await Promise.all([1, 2, 3, 4].map(() => pool.chat({ stream: true })));
    expect(parallel.map((r) => r.status)).toEqual([413, 413, 413, 413]);
    bridge.scenario = 'ok';
    const others = await Promise.all([1, 2, 3].map(() => pool.chat({ stream: true })));
    expect(others.map((r) => r.status)).toEqual([200, 200, 200]);
    const [row] = (await pool.relay.admin('GET', '/api/agents')).json.agents as AgentRow[];
    expect(row).toMatchObject({ ready: true, cooldown: null });
  });

  it('a model LMArena says is unavailable: 502 streamed or not (the recorded bare stop is no answer)', async () => {
    // Four failures would bench the model on this agent (next test): three do not.
    const pool = await startPool(1, { relay: { cooldownFailures: 4, retryAttempts: 0 } });
    const bridge = pool.members[0]!.bridge;
    // The recording (scenarios.txt, lmerror): streamed, v2.7.6 drops LMArena's error line and
    // answers a bare stop chunk and [DONE]; not streamed, a 500 bridge_error with the message.
    bridge.scenario = 'empty';
    for (let i = 0; i < 2; i++) {
      const res = await pool.chat({ stream: false, model: 'claude-opus-4' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'upstream_error',
        message: 'bridge error: Model is currently unavailable (fake)',
      });
    }
    // The agent judges the first meaningful event: a bare stop is a failure before any byte.
    const streamed = await pool.chat({ stream: true, model: 'claude-opus-4' });
    expect(streamed.status).toBe(502);
    expect(((await streamed.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('a bare stop'),
    });
    bridge.scenario = 'ok';
    const [row] = (await pool.relay.admin('GET', '/api/agents')).json.agents as AgentRow[];
    expect(row).toMatchObject({ ready: true, cooldown: null });
    for (const model of ['gpt-5', 'claude-opus-4']) expect((await pool.chat({ model })).status).toBe(200);
  });

  it.each([
    ['timeout', 504, 'timeout'],
    ['error', 502, 'upstream_error'],
  ] as const)(
    '%s for one model: %i %s streamed or not; that model is benched on the agent, the others served',
    async (scenario, status, code) => {
      const pool = await startPool(1, { relay: { cooldownFailures: 3, cooldownMs: 3000, retryAttempts: 0 } });
      const bridge = pool.members[0]!.bridge;
      bridge.scenario = scenario;
      for (const stream of [true, false, true]) {
        const res = await pool.chat({ stream, model: 'claude-opus-4' });
        expect(res.status).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      }
      bridge.scenario = 'ok';
      // The third failure benched claude-opus-4 on this agent, not the agent: gpt-5 is served.
      const [row] = (await pool.relay.admin('GET', '/api/agents')).json.agents as AgentRow[];
      expect(row).toMatchObject({ ready: true, cooldown: null });
      expect((await pool.chat({ model: 'gpt-5' })).status).toBe(200);
      expect((await pool.chat({ model: 'claude-opus-4' })).status).toBe(503);
      // After the bench period the model is tried again and served.
      await expect
        .poll(async () => (await pool.chat({ model: 'claude-opus-4' })).status, { timeout: 15_000 })
        .toBe(200);
    },
  );

  it('content-filter is an answer, not a failure: passed through with its hyphen', async () => {
    const pool = await startPool(1);
    pool.members[0]!.bridge.scenario = 'filter';
    const res = await pool.chat({ stream: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"finish_reason": "content-filter"');
  });

  it('an old-style agent failure with no scope falls back on its code', async () => {
    const { countsAgainstAgent, countsAgainstModel } = await import('../relay/src/proxy/failures.js');
    expect(countsAgainstAgent({ code: 'upstream_unavailable', message: 'x', status: 503 })).toBe(true);
    expect(countsAgainstAgent({ code: 'upstream_error', message: 'x', status: 200 })).toBe(false);
    expect(countsAgainstModel({ code: 'upstream_error', message: 'x', status: 200 })).toBe(true);
    expect(countsAgainstAgent({ code: 'upstream_rejected', message: 'x', scope: 'bridge' })).toBe(false);
    expect(countsAgainstAgent({ code: 'agent_gone', message: 'x' })).toBe(false);
    expect(countsAgainstAgent({ code: 'upstream_error', message: 'x', scope: 'bridge' })).toBe(true);
  });
});

/**
 * Operator figures over a real relay, agent and fake bridge: `/api/providers/status` in the
 * seed's exact shape, `/api/stats` windows and timelines, the `POST /api/clients/health` round
 * trip (answered, failing bridge, silent agent), and what the relay's log lines carry.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay, type TestRelayOptions } from './support/relay.js';

async function stack(relayOptions: TestRelayOptions = {}) {
  const bridge = track(await startFakeBridge());
  const relay = await startTestRelay(relayOptions);
  const client = await relay.createClient('stats bridge');
  const { id: keyId, key } = await relay.createKey('stats key');
  const agent = await startTestAgent(relay.url, client.token, bridge.url);
  const chat = async (model = 'gpt-5') => {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    return res.status;
  };
  return { bridge, relay, client, keyId, key, agent, chat };
}

describe('GET /api/providers/status', () => {
  it('has exactly the seed shape, with counts from the store', async () => {
    const { relay, chat } = await stack();
    await relay.createClient('idle bridge');
    expect([await chat(), await chat(), await chat('no-such-model')]).toEqual([200, 200, 404]);

    // Client counters are written behind (at most once a second) but flushed before every read.
    await expect
      .poll(
        async () => {
          const { status, json } = await relay.admin('GET', '/api/providers/status');
          return { status, json };
        },
        { timeout: 5_000 },
      )
      .toEqual({
        status: 200,
        json: {
          distributed_clients: {
            enabled: true,
            total_clients: 2,
            routing_stats: {
              total_clients: 2,
              active_clients: 1,
              total_requests: 2,
              successful_requests: 2,
              failed_requests: 0,
              success_rate: 1,
              failure_rate: 0,
              load_balancing_strategy: 'least_load',
            },
          },
        },
      });
  });

  it('is behind the admin guard', async () => {
    const relay = await startTestRelay();
    const res = await fetch(`${relay.url}/api/providers/status`);
    expect(res.status).toBe(401);
  });
});

describe('GET /api/stats', () => {
  it('reports rate, success and latency per window, overall, per client and per key', async () => {
    const { relay, client, keyId, chat, bridge } = await stack();
    expect([await chat(), await chat(), await chat()]).toEqual([200, 200, 200]);
    bridge.scenario = 'error';
    await chat();
    const { status, json } = await relay.admin('GET', '/api/stats');
    expect(status).toBe(200);
    expect(json.live).toEqual({ agents: 1, streams_in_flight: 0, queue_depth: 0 });
    for (const window of ['minute', 'hour', 'day'] as const) {
      const w = json.overall[window];
      expect(w.requests).toBe(4);
      expect(w.successful + w.failed).toBe(4);
      expect(w.successful).toBeGreaterThanOrEqual(3);
      expect(w.success_rate).toBeCloseTo(w.successful / 4, 4);
      expect(w.latency_ms.p50).toBeGreaterThanOrEqual(0);
      expect(w.latency_ms.p99).toBeGreaterThanOrEqual(w.latency_ms.p50);
      expect(w.ttfb_ms.p50).toBeGreaterThanOrEqual(0);
      expect(w.bytes).toBeGreaterThan(0);
    }
    expect(json.overall.minute.request_rate).toBeCloseTo(4 / 60, 4);
    expect(json.overall.timeline.requests).toHaveLength(60);
    expect(json.overall.timeline.requests.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(json.clients).toHaveLength(1);
    expect(json.clients[0]).toMatchObject({ client_id: client.id, hour: { requests: 4 } });
    expect(json.keys).toHaveLength(1);
    // Keys carry counts only: no latency histograms per key.
    expect(json.keys[0]).toMatchObject({ key_id: keyId, day: { requests: 4, latency_ms: null } });
  });
});

describe('POST /api/clients/health', () => {
  it('is the only POST under /api/clients/{id}: any other id is a 404', async () => {
    const { relay } = await stack();
    const other = await relay.admin('POST', '/api/clients/cl_nope');
    expect(other.status).toBe(404);
    expect(other.json.error.code).toBe('not_found');
  });

  it('round-trips over every socket with the agent’s bridge probe and timings', async () => {
    const { relay, agent, bridge } = await stack();
    const ok = await relay.admin('POST', '/api/clients/health');
    expect(ok.status).toBe(200);
    expect(ok.json.summary).toEqual({ agents: 1, healthy: 1, unhealthy: 0, unresponsive: 0 });
    expect(ok.json.agents[0]).toMatchObject({
      agent_id: agent.sessionId,
      client_name: 'stats bridge',
      ok: true,
      result: 'answered',
      bridge: { ok: true, status: 200, reason: null },
    });
    expect(ok.json.agents[0].round_trip_ms).toBeGreaterThanOrEqual(ok.json.agents[0].bridge.latency_ms);

    await bridge.close();
    const down = await relay.admin('POST', '/api/clients/health', { timeout_ms: 5_000 });
    expect(down.json.summary).toMatchObject({ agents: 1, healthy: 0, unhealthy: 1 });
    expect(down.json.agents[0]).toMatchObject({ ok: false, result: 'answered', bridge: { ok: false } });
    expect(down.json.agents[0].bridge.reason).toMatch(/unreachable|ECONNREFUSED/i);
  });

  it('reports a silent agent as a timeout, filters by client, and validates the body', async () => {
    const relay = await startTestRelay();
    const silent = await relay.createClient('silent');
    const other = await relay.createClient('other');
    await connectRawAgent(relay.url, silent.token);
    await connectRawAgent(relay.url, other.token);
    const res = await relay.admin('POST', '/api/clients/health', { client_id: silent.id, timeout_ms: 150 });
    expect(res.json.timeout_ms).toBe(150);
    expect(res.json.agents).toHaveLength(1);
    expect(res.json.agents[0]).toMatchObject({
      client_id: silent.id,
      ok: false,
      result: 'timeout',
      bridge: null,
    });
    expect(res.json.agents[0].round_trip_ms).toBeGreaterThanOrEqual(140);

    const bad = await relay.admin('POST', '/api/clients/health', { timeout_ms: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('timeout_ms');
  });

  it('reports an agent whose socket closes mid-check as disconnected', async () => {
    const relay = await startTestRelay();
    const client = await relay.createClient();
    const raw = await connectRawAgent(relay.url, client.token);
    const pending = relay.admin('POST', '/api/clients/health', { timeout_ms: 10_000 });
    await raw.next('health');
    await raw.close();
    const res = await pending;
    expect(res.json.agents[0]).toMatchObject({ result: 'disconnected', ok: false });
    expect(res.json.agents[0].round_trip_ms).toBeLessThan(10_000);
  });
});

describe('relay logs', () => {
  it('carry the request id on request lines, the agent id on agent lines, and never a token', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const { relay, client, key, chat } = await stack({ logSink: sink });
    expect(await chat()).toBe(200);
    const download = await fetch(`${relay.url}/api/clients/${client.id}/download`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(download.status).toBe(200);
    await download.arrayBuffer();
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const finished = lines.find((l) => l.msg === 'request finished');
    expect(finished).toMatchObject({
      requestId: expect.stringMatching(/^req_/),
      agentId: expect.any(String),
    });
    expect(lines.find((l) => l.msg === 'agent connected')).toMatchObject({ agentId: expect.any(String) });
    expect(lines.find((l) => l.msg === 'client package downloaded')).toMatchObject({
      clientId: client.id,
      requestId: expect.stringMatching(/^req_/),
    });
    for (const secret of [key, client.token, relay.adminToken]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/art_[A-Za-z0-9]{40}/);
  });
});

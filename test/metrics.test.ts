/**
 * `GET /metrics`: valid Prometheus text on the relay's own registry, counters that move with
 * traffic (requests by model and status, bytes, TTFB and duration, retries), live gauges, and
 * the optional admin-token guard. Every series carries the relay's id as its `relay` label.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { parsePrometheus } from './support/prometheus.js';
import { startTestRelay, type TestRelayOptions } from './support/relay.js';

async function stack(relayOptions: TestRelayOptions = {}) {
  const bridge = track(await startFakeBridge());
  const relay = await startTestRelay(relayOptions);
  const client = await relay.createClient('metrics bridge');
  const { key } = await relay.createKey();
  const agent = await startTestAgent(relay.url, client.token, bridge.url);
  const chat = async (model = 'gpt-5') => {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, body: await res.text() };
  };
  const scrape = async (token?: string) => {
    const res = await fetch(`${relay.url}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { res, text: await res.text() };
  };
  return { bridge, relay, client, agent, chat, scrape };
}

describe('GET /metrics', () => {
  it('is Prometheus text whose counters and gauges follow the traffic', async () => {
    const { relay, client, chat, scrape, bridge } = await stack();

    const before = await scrape();
    expect(before.res.status).toBe(200);
    expect(before.res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const start = parsePrometheus(before.text);
    expect(start.types.get('arena_relay_requests_total')).toBe('counter');
    expect(start.types.get('arena_relay_ttfb_seconds')).toBe('histogram');
    expect(start.sum('arena_relay_requests_total')).toBe(0);
    expect(start.value('arena_relay_agents_connected', { state: 'ready' })).toBe(1);
    expect(start.value('arena_relay_agent_capacity')).toBe(4);
    expect(start.value('arena_relay_streams_in_flight')).toBe(0);
    expect(start.value('arena_relay_queue_depth')).toBe(0);
    expect(start.value('arena_relay_store_up')).toBe(1);
    expect(start.value('process_resident_memory_bytes', { relay: relay.relayId })).toBeGreaterThan(0);
    // Every series, the relay's own and the process's, names this relay.
    expect(start.samples.length).toBeGreaterThan(20);
    expect(start.samples.filter((s) => s.labels.relay !== relay.relayId)).toEqual([]);

    const answers = [await chat(), await chat(), await chat('no-such-model')];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404]);
    const bytes = Buffer.byteLength(answers[0]!.body) + Buffer.byteLength(answers[1]!.body);

    const after = parsePrometheus((await scrape()).text);
    expect(
      after.value('arena_relay_requests_total', {
        model: 'gpt-5',
        status: '200',
        outcome: 'ok',
        relay: relay.relayId,
      }),
    ).toBe(2);
    expect(after.samples.filter((s) => s.labels.relay !== relay.relayId)).toEqual([]);
    // A model no agent serves is not a label of its own: consumers cannot grow the label set.
    expect(
      after.value('arena_relay_requests_total', {
        model: 'other',
        status: '404',
        outcome: 'model_not_found',
      }),
    ).toBe(1);
    expect(after.value('arena_relay_relayed_bytes_total', { model: 'gpt-5' })).toBe(bytes);
    expect(after.value('arena_relay_ttfb_seconds_count', { model: 'gpt-5' })).toBe(2);
    expect(after.value('arena_relay_request_duration_seconds_count', { model: 'gpt-5' })).toBe(2);
    expect(after.value('arena_relay_ttfb_seconds_bucket', { model: 'gpt-5', le: '+Inf' })).toBe(2);
    expect(
      after.value('arena_relay_http_requests_total', {
        method: 'POST',
        route: '/v1/chat/completions',
        status: '200',
      }),
    ).toBe(2);
    expect(after.value('arena_relay_http_requests_total', { method: 'GET', route: '/metrics' })).toBe(1);

    // A failure before the first byte is an attempt that failed: counted by code.
    bridge.scenario = 'tab-closed';
    const failed = await chat();
    expect(failed.status).toBe(503);
    const last = parsePrometheus((await scrape()).text);
    expect(last.value('arena_relay_retries_total', { code: 'upstream_unavailable' })).toBe(1);
    expect(last.sum('arena_relay_requests_total', { status: '503' })).toBe(1);

    // Gauges are read live at scrape time.
    await relay.admin('DELETE', `/api/clients/${client.id}`);
    await expect
      .poll(async () => parsePrometheus((await scrape()).text).sum('arena_relay_agents_connected'), {
        timeout: 5_000,
      })
      .toBe(0);
  });

  it('answers only with the admin token when METRICS_REQUIRE_TOKEN is set', async () => {
    const relay = await startTestRelay({ metricsRequireToken: true });
    const open = await fetch(`${relay.url}/metrics`);
    expect(open.status).toBe(401);
    expect(((await open.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_token');
    const res = await fetch(`${relay.url}/metrics`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(parsePrometheus(await res.text()).value('arena_relay_queue_depth')).toBe(0);
  });

  it('keeps each relay on its own registry, each series labelled with its relay', async () => {
    const [a, b] = [await startTestRelay(), await startTestRelay()];
    const samples = async (url: string) =>
      parsePrometheus(await (await fetch(`${url}/metrics`)).text()).samples;
    const [sa, sb] = [await samples(a.url), await samples(b.url)];
    const info = (list: typeof sa) => list.filter((s) => s.name === 'arena_relay_info');
    expect(info(sa)).toHaveLength(1);
    expect(info(sb)).toHaveLength(1);
    expect(info(sa)[0]!.labels.relay_id).toBe(a.relayId);
    expect(info(sb)[0]!.labels.relay_id).toBe(b.relayId);
    // Two relays in one process: the process's series too are labelled per relay, not shared.
    expect(new Set(sa.map((s) => s.labels.relay))).toEqual(new Set([a.relayId]));
    expect(new Set(sb.map((s) => s.labels.relay))).toEqual(new Set([b.relayId]));
    expect(sa.find((s) => s.name === 'process_cpu_user_seconds_total')).toBeDefined();
  });
});

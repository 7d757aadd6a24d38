/**
 * Health that agrees with itself, over a real relay, agent and fake bridge: the same requests
 * read the same figures in `/api/stats`, `/api/clients` and `/metrics`; a consumer's own error
 * (an unknown model) never pulls success down; a client whose only bridge is down is not
 * "healthy", and a connected client is seen now; a routine 503 is a one-line warning.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { parsePrometheus } from './support/prometheus.js';
import { startTestRelay } from './support/relay.js';

type Summary = {
  requests: number;
  successful: number;
  failed: number;
  consumer_errors: number;
  success_rate: number | null;
};
type ClientRow = {
  id: string;
  health: string;
  last_seen: string | null;
  agents_connected: number;
  agents_ready: number;
};

describe('health figures', () => {
  it('read the same on every surface, keep consumer errors apart, and follow live readiness', async () => {
    const sink = new PassThrough();
    let logText = '';
    sink.on('data', (chunk: Buffer) => {
      logText += chunk.toString();
    });
    const relay = await startTestRelay({ retryAttempts: 0, logSink: sink });
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge());
    const client = await relay.createClient('owner');
    await startTestAgent(relay.url, client.token, bridge.url, { statusPort: 0 });
    const chat = async (model = 'gpt-5') => {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const overall = async () => (await relay.admin('GET', '/api/stats')).json.overall.minute as Summary;
    const clientRow = async () =>
      (await relay.admin('GET', `/api/clients/${client.id}`)).json.client as ClientRow;
    const metrics = async () => parsePrometheus(await (await fetch(`${relay.url}/metrics`)).text());

    for (let i = 0; i < 4; i++) expect(await chat()).toBe(200);
    // Nobody serves this model: the consumer's error, not the pool's failure.
    expect(await chat('no-such-model')).toBe(404);
    const before = await overall();
    expect(before).toMatchObject({
      requests: 5,
      successful: 4,
      failed: 0,
      consumer_errors: 1,
      success_rate: 1,
    });
    const scraped = await metrics();
    expect(scraped.sum('arena_relay_request_results_total', { result: 'ok' })).toBe(4);
    expect(scraped.sum('arena_relay_request_results_total', { result: 'consumer_error' })).toBe(1);
    expect(scraped.sum('arena_relay_request_results_total', { result: 'failed' })).toBe(0);
    const seen = await clientRow();
    expect(seen).toMatchObject({ agents_connected: 1, agents_ready: 1 });
    // Connected: seen now, not when the agent connected.
    expect(Date.now() - Date.parse(seen.last_seen!)).toBeLessThan(2_000);

    // The only bridge goes down: one routine 503, and the client is not healthy any more,
    // before (and whatever) its outcomes say.
    await bridge.close();
    expect(await chat()).toBe(503);
    await expect.poll(async () => (await clientRow()).agents_ready, { timeout: 5_000 }).toBe(0);
    expect(await clientRow()).toMatchObject({ health: 'unhealthy', agents_connected: 1 });
    const down = await metrics();
    expect(down.value('arena_relay_agents_not_ready', { client: client.id, reason: 'bridge_down' })).toBe(1);
    const after = await overall();
    expect(after).toMatchObject({ successful: 4, failed: 1, consumer_errors: 1, success_rate: 0.8 });
    expect((await metrics()).sum('arena_relay_request_results_total', { result: 'failed' })).toBe(1);

    const lines = logText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const refused = lines.filter((l) => l.msg === 'request failed');
    expect(refused.length).toBeGreaterThan(0);
    for (const line of refused) {
      // warn (40), one line: no error level, no stack.
      expect(line).toMatchObject({ level: 40, status: 503 });
      expect(line).not.toHaveProperty('err');
    }
  });
});

/**
 * Bridge clients' own limits (`rate_limit`): a client over its limit is not picked and other
 * agents serve; when every candidate's client is over, the consumer gets 429.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { type FakeBridge, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

type RateLimit = Partial<Record<'requests_per_minute' | 'requests_per_day' | 'max_concurrency', number>>;

/** A client with `rate_limit`, one agent for it and its own fake bridge. */
async function bridgeClient(relay: TestRelay, name: string, rateLimit: RateLimit, bridgeSlowMs?: number) {
  const { status, json } = await relay.admin('POST', '/api/clients', { name, rate_limit: rateLimit });
  expect(status).toBe(201);
  const bridge: FakeBridge = track(await startFakeBridge({ slowDelayMs: bridgeSlowMs }));
  await startTestAgent(relay.url, json.token, bridge.url, { maxConcurrency: 64 });
  return { id: json.client.id as string, bridge };
}

function ask(relay: TestRelay, key: string, stream = false): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5', stream, messages: [{ role: 'user', content: 'Hello' }] }),
  });
}

async function status(res: Promise<Response>): Promise<number> {
  const answer = await res;
  await answer.text();
  return answer.status;
}

describe('bridge client rate limits', () => {
  it('routes around a client over its requests_per_minute; 429 once every client is over', async () => {
    const relay = await startTestRelay({ loadBalancing: 'round_robin' });
    const small = await bridgeClient(relay, 'small', { requests_per_minute: 2 });
    const large = await bridgeClient(relay, 'large', { requests_per_minute: 8 });
    const { key } = await relay.createKey();
    for (let i = 0; i < 10; i++) expect(await status(ask(relay, key))).toBe(200);
    expect(small.bridge.requests).toHaveLength(2);
    expect(large.bridge.requests).toHaveLength(8);

    const refused = await ask(relay, key);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    expect(body.error.message).toMatch(/own rate limit/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(small.bridge.requests.length + large.bridge.requests.length).toBe(10);
  });

  it('admits exactly the sum of the clients’ limits under a parallel burst', async () => {
    const relay = await startTestRelay();
    const a = await bridgeClient(relay, 'a', { requests_per_minute: 7 });
    const b = await bridgeClient(relay, 'b', { requests_per_minute: 5 });
    const { key } = await relay.createKey();
    const statuses = await Promise.all(Array.from({ length: 40 }, () => status(ask(relay, key))));
    expect(statuses.filter((s) => s === 200)).toHaveLength(12);
    expect(statuses.filter((s) => s === 429)).toHaveLength(28);
    expect(a.bridge.requests).toHaveLength(7);
    expect(b.bridge.requests).toHaveLength(5);
  });

  it('max_concurrency of a client: the other agent serves while its slot is taken, and it frees again', async () => {
    const relay = await startTestRelay({ loadBalancing: 'round_robin' });
    const busy = await bridgeClient(relay, 'busy', { max_concurrency: 1 }, 100);
    const other = await bridgeClient(relay, 'other', {});
    const { key } = await relay.createKey();
    busy.bridge.scenario = 'slow';
    other.bridge.scenario = 'slow';
    // Two streams at once: one per client, whichever is picked first.
    const [first, second] = await Promise.all([ask(relay, key, true), ask(relay, key, true)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(busy.bridge.requests).toHaveLength(1);
    expect(other.bridge.requests).toHaveLength(1);
    // While its one slot is taken, the busy client is passed over.
    other.bridge.scenario = 'ok';
    expect(await status(ask(relay, key))).toBe(200);
    expect(busy.bridge.requests).toHaveLength(1);
    await Promise.all([first.text(), second.text()]);
    busy.bridge.scenario = 'ok';
    for (let i = 0; i < 2; i++) expect(await status(ask(relay, key))).toBe(200);
    // Free again: round robin reached it.
    expect(busy.bridge.requests.length).toBeGreaterThan(1);
  });

  it('a client whose agent fails before the first byte gets its slot back at once, not at the end', async () => {
    // least_load breaks ties by connection order: the flaky client is tried first.
    const relay = await startTestRelay({ retryAttempts: 1 });
    const flaky = await bridgeClient(relay, 'flaky', { max_concurrency: 1 });
    const steady = await bridgeClient(relay, 'steady', {}, 100);
    const { key } = await relay.createKey();
    flaky.bridge.scenario = 'error';
    steady.bridge.scenario = 'slow';
    const first = await ask(relay, key, true);
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read();
    expect(flaky.bridge.requests).toHaveLength(1);
    expect(steady.bridge.requests).toHaveLength(1);

    // The first request is still streaming from `steady`; `flaky` is free again and serves.
    flaky.bridge.scenario = 'ok';
    expect(await status(ask(relay, key))).toBe(200);
    expect(flaky.bridge.requests).toHaveLength(2);
    await reader.cancel();
  });
});

/**
 * Rate limits of API keys on one (embedded) relay: exact admission under a burst, OpenAI's 429 and
 * `x-ratelimit-*` headers, concurrency slots given back on every path, and `tokens_per_day`.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { type FakeBridgeOptions, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './support/relay.js';

type Limits = Partial<
  Record<'requests_per_minute' | 'requests_per_day' | 'max_concurrency' | 'tokens_per_day', number>
>;

async function limitedKey(relay: TestRelay, limits: Limits | undefined): Promise<string> {
  const { status, json } = await relay.admin('POST', '/api/keys', { name: 'limited', limits });
  expect(status).toBe(201);
  return json.key;
}

/** Relay + one agent (64 slots) + fake bridge, and a key with `limits`. */
async function stack(
  limits?: Limits,
  options: { relay?: TestRelayOptions; bridge?: FakeBridgeOptions } = {},
) {
  const bridge = track(await startFakeBridge(options.bridge));
  const relay = await startTestRelay(options.relay);
  const { token } = await relay.createClient();
  await startTestAgent(relay.url, token, bridge.url, { maxConcurrency: 64 });
  return { bridge, relay, key: await limitedKey(relay, limits) };
}

function ask(url: string, key: string, body: unknown = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'Hello' }],
      ...(body as object),
    }),
    ...init,
  });
}

const ratelimit = (res: Response) => ({
  limit: res.headers.get('x-ratelimit-limit-requests'),
  remaining: res.headers.get('x-ratelimit-remaining-requests'),
  reset: res.headers.get('x-ratelimit-reset-requests'),
});

/** OpenAI's reset notation: `250ms`, `59.9s`, `6m0s`, `23h59m59.5s`. */
const RESET = /^(\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s)$/;

describe('API key rate limits', () => {
  it('admits exactly 50 of 200 parallel requests against requests_per_minute 50', async () => {
    const { relay, key } = await stack({ requests_per_minute: 50 });
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await ask(relay.url, key);
        return { res, body: (await res.json()) as { error?: Record<string, unknown> } };
      }),
    );
    const ok = answers.filter((a) => a.res.status === 200);
    const refused = answers.filter((a) => a.res.status === 429);
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    // Each admitted request saw its own place in the window: 49 left … 0 left.
    expect(ok.map((a) => Number(ratelimit(a.res).remaining)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    for (const { res, body } of refused) {
      expect(body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
      expect(body.error?.message).toMatch(/requests per minute \(RPM\).*limit 50/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(ratelimit(res)).toMatchObject({ limit: '50', remaining: '0' });
      expect(ratelimit(res).reset).toMatch(RESET);
    }
  });

  it('sends x-ratelimit-* on every answer of a limited key: stream, JSON, 400, 404 — none for an unlimited key', async () => {
    const { relay, key } = await stack({ requests_per_minute: 100, requests_per_day: 1000 });
    const answers = [
      await ask(relay.url, key, { stream: true }),
      await ask(relay.url, key),
      await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{not json',
      }),
      await ask(relay.url, key, { model: 'no-such-model' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 400, 404]);
    for (const [i, res] of answers.entries()) {
      await res.text();
      // The minute window has fewer left than the day: it is the one described.
      expect(ratelimit(res)).toEqual({
        limit: '100',
        remaining: String(99 - i),
        reset: expect.stringMatching(RESET),
      });
    }
    const unlimited = await relay.createKey('free');
    const res = await ask(relay.url, unlimited.key);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('describes the day window when fewer requests are left in it than in the minute', async () => {
    const { relay, key } = await stack({ requests_per_minute: 100, requests_per_day: 2 });
    const first = await ask(relay.url, key);
    expect(ratelimit(first)).toMatchObject({ limit: '2', remaining: '1' });
    await ask(relay.url, key);
    const refused = await ask(relay.url, key);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/per day/);
    // Reset at 00:00 UTC: between now and 24 h.
    const retry = Number(refused.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(86_400);
  });

  it('max_concurrency: a slot is given back when the consumer disconnects mid-stream', async () => {
    const { relay, key, bridge } = await stack({ max_concurrency: 1 }, { bridge: { slowDelayMs: 100 } });
    bridge.scenario = 'slow';
    const controller = new AbortController();
    const first = await ask(relay.url, key, { stream: true }, { signal: controller.signal });
    const reader = first.body!.getReader();
    await reader.read();

    const second = await ask(relay.url, key);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(
      /concurrent requests/,
    );

    controller.abort();
    await reader.read().catch(() => undefined);
    // The bridge request was cancelled end to end: the relay has long settled the first request.
    await bridge.nextEarlyClose();
    bridge.scenario = 'ok';
    const third = await ask(relay.url, key);
    expect(third.status).toBe(200);
    await third.text();
  });

  it('max_concurrency: the slot is given back after a 400, an upstream 503, a timeout and a 404', async () => {
    const { relay, key, bridge } = await stack({ max_concurrency: 1 }, { relay: { requestTimeoutMs: 300 } });
    const next = async () => {
      const res = await ask(relay.url, key);
      await res.text();
      return res.status;
    };
    const bad = await ask(relay.url, key, { messages: 'nope' });
    expect(bad.status).toBe(400);
    expect(await next()).toBe(200);
    bridge.scenario = 'hang';
    expect(await next()).toBe(504);
    bridge.scenario = 'ok';
    expect((await ask(relay.url, key, { model: 'missing' })).status).toBe(404);
    expect(await next()).toBe(200);
    bridge.scenario = 'tab-closed';
    expect(await next()).toBe(503);
    // The agent now reports its bridge unavailable (503 again), but the key was admitted: no 429.
    expect(await next()).not.toBe(429);
  });

  it('tokens_per_day: refuses once the day has used the budget, with x-ratelimit-*-tokens', async () => {
    const { relay, key } = await stack({ tokens_per_day: 40 });
    const first = await ask(relay.url, key);
    const usage = ((await first.json()) as { usage: { completion_tokens: number } }).usage;
    // Prompt "Hello" is 1 token by the relay's estimate (5 characters / 4).
    const perRequest = 1 + usage.completion_tokens;
    expect(perRequest).toBeLessThan(40);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('40');
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('40');
    const second = await ask(relay.url, key);
    await second.text();
    expect(second.headers.get('x-ratelimit-remaining-tokens')).toBe(String(40 - perRequest));
    const third = await ask(relay.url, key);
    expect(third.status).toBe(429);
    expect(third.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(third.headers.get('x-ratelimit-reset-tokens')).toMatch(RESET);
    expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/tokens per day/);
  });

  it('a lowered limit applies to the next request', async () => {
    const { relay, key } = await stack({ requests_per_minute: 100 });
    expect((await ask(relay.url, key)).status).toBe(200);
    const { json } = await relay.admin('GET', '/api/keys');
    const id = json.keys.find((k: { name: string }) => k.name === 'limited').id;
    expect(
      (await relay.admin('PATCH', `/api/keys/${id}`, { limits: { requests_per_minute: 1 } })).status,
    ).toBe(200);
    expect((await ask(relay.url, key)).status).toBe(429);
  });
});

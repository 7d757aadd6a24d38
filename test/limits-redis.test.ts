/**
 * Rate limits on Redis: exact across two relays sharing one Redis, concurrency slots given back,
 * and RATE_LIMIT_FAIL_MODE when Redis is unreachable or stops answering (no request hangs).
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../relay/src/errors/relay-error.js';
import type { Limiter, LimitSpec } from '../relay/src/limits/limiter.js';
import { MemoryLimiter } from '../relay/src/limits/memory-limiter.js';
import { RedisLimiter } from '../relay/src/limits/redis-limiter.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { freePort, startPrivateRedis } from './support/private-redis.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './support/relay.js';
import { REDIS_TEST_URL, redisAt, redisAvailable, redisBackend } from './support/store-backends.js';

// These suites need the Redis at REDIS_TEST_URL and the redis-server binary (`.ci/run` provides both).
if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

/** Two relays on one fresh prefix of REDIS_TEST_URL (its keys are deleted afterwards). */
async function twoRelays(extra: TestRelayOptions = {}): Promise<[TestRelay, TestRelay]> {
  const backend = redisBackend();
  track({ close: () => backend.dispose() });
  const options = { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix, ...extra };
  return [await startTestRelay(options), await startTestRelay(options)];
}

async function limitedKey(relay: TestRelay, limits: Record<string, number>): Promise<string> {
  const { status, json } = await relay.admin('POST', '/api/keys', { name: 'limited', limits });
  expect(status).toBe(201);
  return json.key;
}

function ask(url: string, key: string, stream = false, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5', stream, messages: [{ role: 'user', content: 'Hello' }] }),
    signal,
  });
}

const RPM_5: LimitSpec = {
  requestsPerMinute: 5,
  requestsPerDay: null,
  maxConcurrency: null,
  tokensPerDay: null,
};

const limiters: Array<[string, () => Promise<Limiter>]> = [
  ['memory', async () => new MemoryLimiter(60_000)],
  [
    'redis',
    async () => {
      const backend = redisBackend();
      track({ close: () => backend.dispose() });
      return RedisLimiter.open({
        redis: redisAt(REDIS_TEST_URL),
        prefix: backend.prefix,
        leaseTtlMs: 60_000,
        failMode: 'closed',
      });
    },
  ],
];

describe.each(limiters)('Limiter contract: %s', (_name, open) => {
  it('counts every window, all or nothing, and gives leases back', async () => {
    const limiter = track(await open());
    const all: LimitSpec = { requestsPerMinute: 3, requestsPerDay: 10, maxConcurrency: 2, tokensPerDay: 50 };
    expect(await limiter.acquire('key:a', all, 'r1')).toMatchObject({
      ok: true,
      leased: true,
      snapshot: {
        minute: { limit: 3, remaining: 2 },
        day: { limit: 10, remaining: 9 },
        tokens: { remaining: 50 },
      },
    });
    expect(await limiter.acquire('key:a', all, 'r2')).toMatchObject({ ok: true });
    // Two in flight: refused by concurrency, and the refusal counts in no window.
    expect(await limiter.acquire('key:a', all, 'r3')).toMatchObject({
      ok: false,
      refusedBy: ['max_concurrency'],
    });
    await limiter.release('key:a', 'r1');
    await limiter.release('key:a', 'unknown');
    expect(await limiter.acquire('key:a', all, 'r3')).toMatchObject({
      ok: true,
      snapshot: { minute: { remaining: 0 }, day: { remaining: 7 } },
    });
    await limiter.release('key:a', 'r2');
    await limiter.release('key:a', 'r3');
    const refused = await limiter.acquire('key:a', all, 'r4');
    expect(refused).toMatchObject({ ok: false, refusedBy: ['requests_per_minute'] });
    expect(refused.ok === false && refused.retryAfterMs).toBeGreaterThan(50_000);
    // Other scopes are untouched; tokens charged count against tokens_per_day.
    await limiter.addTokens('key:b', 60);
    expect(await limiter.acquire('key:b', all, 'r1')).toMatchObject({
      ok: false,
      refusedBy: ['tokens_per_day'],
      snapshot: { tokens: { remaining: 0 } },
    });
    expect(await limiter.acquire('key:c', all, 'r1')).toMatchObject({ ok: true });
  });

  it('refund takes one request back from the minute and day windows, never below zero', async () => {
    const limiter = track(await open());
    const spec: LimitSpec = {
      requestsPerMinute: 2,
      requestsPerDay: 3,
      maxConcurrency: null,
      tokensPerDay: null,
    };
    await limiter.acquire('key:r', spec, 'a');
    await limiter.acquire('key:r', spec, 'b');
    expect(await limiter.acquire('key:r', spec, 'c')).toMatchObject({ ok: false });
    await limiter.refund('key:r', spec);
    expect(await limiter.acquire('key:r', spec, 'c')).toMatchObject({
      ok: true,
      snapshot: { minute: { remaining: 0 }, day: { remaining: 1 } },
    });
    // A scope that never counted anything stays at zero.
    await limiter.refund('key:none', spec);
    await limiter.refund('key:none', spec);
    expect(await limiter.acquire('key:none', spec, 'a')).toMatchObject({
      ok: true,
      snapshot: { minute: { remaining: 1 }, day: { remaining: 2 } },
    });
  });
});

describe('rate limits across relays sharing Redis', () => {
  it('admits exactly 50 of 200 parallel requests against requests_per_minute 50, split over two relays', async () => {
    const [a, b] = await twoRelays();
    const bridge = track(await startFakeBridge());
    const { token } = await a.createClient('shared');
    await startTestAgent(a.url, token, bridge.url, { maxConcurrency: 64 });
    await startTestAgent(b.url, token, bridge.url, { maxConcurrency: 64 });
    const key = await limitedKey(a, { requests_per_minute: 50 });
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await ask((i % 2 ? a : b).url, key);
        await res.text();
        return res;
      }),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(50);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(150);
    expect(
      ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort((x, y) => x - y),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('max_concurrency spans relays, and a slot comes back when the consumer disconnects', async () => {
    const [a, b] = await twoRelays();
    const bridge = track(await startFakeBridge({ slowDelayMs: 100 }));
    const { token } = await a.createClient('shared');
    await startTestAgent(a.url, token, bridge.url);
    await startTestAgent(b.url, token, bridge.url);
    const key = await limitedKey(a, { max_concurrency: 1 });
    bridge.scenario = 'slow';
    const controller = new AbortController();
    const first = await ask(a.url, key, true, controller.signal);
    const reader = first.body!.getReader();
    await reader.read();
    const other = await ask(b.url, key);
    expect(other.status).toBe(429);
    await other.text();
    controller.abort();
    await reader.read().catch(() => undefined);
    await bridge.nextEarlyClose();
    bridge.scenario = 'ok';
    // Relay a gave the lease back before it cancelled the bridge request; Redis has it.
    const again = await ask(b.url, key);
    expect(again.status).toBe(200);
    await again.text();
  });
});

describe('RATE_LIMIT_FAIL_MODE', () => {
  it('an unreachable Redis: `open` admits at once, `closed` refuses at once with 503', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const open = track(
      await RedisLimiter.open({ redis: redisAt(url), prefix: 'x:', leaseTtlMs: 60_000, failMode: 'open' }),
    );
    const closed = track(
      await RedisLimiter.open({ redis: redisAt(url), prefix: 'x:', leaseTtlMs: 60_000, failMode: 'closed' }),
    );
    let started = Date.now();
    expect(await open.acquire('key:k', RPM_5, 'r1')).toEqual({ ok: true, degraded: true, leased: false });
    expect(Date.now() - started).toBeLessThan(1000);
    started = Date.now();
    const error = await closed.acquire('key:k', RPM_5, 'r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ status: 503, retryAfter: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a Redis that stops answering: the check times out (500 ms) and the fail mode answers', async () => {
    const redis = await startPrivateRedis();
    const open = track(
      await RedisLimiter.open({
        redis: redisAt(redis.url),
        prefix: 'x:',
        leaseTtlMs: 60_000,
        failMode: 'open',
      }),
    );
    expect(await open.acquire('key:k', RPM_5, 'r1')).toMatchObject({
      ok: true,
      snapshot: { minute: { remaining: 4 } },
    });
    // Every client's commands wait 2 s: connected, but silent.
    const admin = new Redis(redis.url);
    track({ close: () => void admin.disconnect() });
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
    const started = Date.now();
    expect(await open.acquire('key:k', RPM_5, 'r2')).toEqual({ ok: true, degraded: true, leased: false });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(1500);
  });

  it('relays keep answering when Redis dies: `open` serves a limited key, `closed` answers 503', async () => {
    const redis = await startPrivateRedis();
    const redisUrl = redis.url;
    const openRelay = await startTestRelay({ redisUrl, redisPrefix: 'open:', rateLimitFailMode: 'open' });
    const closedRelay = await startTestRelay({
      redisUrl,
      redisPrefix: 'closed:',
      rateLimitFailMode: 'closed',
    });
    const bridge = track(await startFakeBridge());
    const keys: string[] = [];
    for (const relay of [openRelay, closedRelay]) {
      await startTestAgent(relay.url, (await relay.createClient()).token, bridge.url);
      const key = await limitedKey(relay, { requests_per_minute: 100 });
      keys.push(key);
      // Seen once: the relay's key cache serves it while the store is unreachable.
      expect((await ask(relay.url, key)).status).toBe(200);
    }
    await redis.kill();

    let started = Date.now();
    const admitted = await ask(openRelay.url, keys[0]!);
    expect(admitted.status).toBe(200);
    // Nothing known about the window: no x-ratelimit headers rather than made-up ones.
    expect(admitted.headers.get('x-ratelimit-limit-requests')).toBeNull();
    expect(Date.now() - started).toBeLessThan(1500);

    started = Date.now();
    const refused = await ask(closedRelay.url, keys[1]!);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/rate limiter/);
    expect(Date.now() - started).toBeLessThan(1500);
    // Back, so that the relays can write what they buffered and close cleanly.
    await redis.restart();
  });
});

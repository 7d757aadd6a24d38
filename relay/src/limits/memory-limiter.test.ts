import { describe, expect, it } from 'vitest';
import { formatDuration, rateLimitHeaders } from './headers.js';
import { DAY_MS, type LimitSpec } from './limiter.js';
import { MemoryLimiter } from './memory-limiter.js';

const spec = (s: Partial<LimitSpec>): LimitSpec => ({
  requestsPerMinute: null,
  requestsPerDay: null,
  maxConcurrency: null,
  tokensPerDay: null,
  ...s,
});

/** What an admitted request answers: ok, with (part of) its snapshot. */
const admitted = (snapshot: object) => ({ ok: true, snapshot });
/** What a refused request answers: the limits that refused it, and the wait (ms) when given. */
const refused = (refusedBy: string[], retryAfterMs?: number) => ({
  ok: false,
  refusedBy,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

/** A limiter on a clock the test moves; starts 10 s before a UTC midnight. */
function clocked() {
  const clock = { now: 20_000 * DAY_MS - 10_000 };
  return { clock, limiter: new MemoryLimiter(5_000, () => clock.now) };
}

describe('MemoryLimiter', () => {
  it('the minute window opens with its first request and closes 60 s later', async () => {
    const { clock, limiter } = clocked();
    const rpm = spec({ requestsPerMinute: 2 });
    expect(await limiter.acquire('k', rpm, 'a')).toMatchObject(
      admitted({ minute: { remaining: 1, resetMs: 60_000 } }),
    );
    clock.now += 30_000;
    expect(await limiter.acquire('k', rpm, 'b')).toMatchObject(
      admitted({ minute: { remaining: 0, resetMs: 30_000 } }),
    );
    expect(await limiter.acquire('k', rpm, 'c')).toMatchObject(refused(['requests_per_minute'], 30_000));
    clock.now += 30_000;
    expect(await limiter.acquire('k', rpm, 'd')).toMatchObject(admitted({ minute: { remaining: 1 } }));
  });

  it('the day resets at 00:00 UTC; tokens charged count against tokens_per_day', async () => {
    const { clock, limiter } = clocked();
    const daily = spec({ requestsPerDay: 1, tokensPerDay: 100 });
    expect(await limiter.acquire('k', daily, 'a')).toMatchObject(
      admitted({ day: { remaining: 0, resetMs: 10_000 }, tokens: { remaining: 100 } }),
    );
    await limiter.addTokens('k', 150);
    expect(await limiter.acquire('k', daily, 'b')).toMatchObject(
      refused(['requests_per_day', 'tokens_per_day'], 10_000),
    );
    clock.now += 10_000;
    expect(await limiter.acquire('k', daily, 'c')).toMatchObject(admitted({ tokens: { remaining: 100 } }));
  });

  it('is all or nothing: a request refused by one limit counts against none', async () => {
    const { limiter } = clocked();
    const both = spec({ requestsPerMinute: 10, maxConcurrency: 1 });
    expect(await limiter.acquire('k', both, 'a')).toMatchObject({ ok: true, leased: true });
    for (let i = 0; i < 5; i++) {
      expect(await limiter.acquire('k', both, `x${i}`)).toMatchObject(refused(['max_concurrency']));
    }
    await limiter.release('k', 'a');
    expect(await limiter.acquire('k', both, 'b')).toMatchObject(admitted({ minute: { remaining: 8 } }));
  });

  it('a lease not given back expires after its ttl', async () => {
    const { clock, limiter } = clocked();
    const one = spec({ maxConcurrency: 1 });
    await limiter.acquire('k', one, 'lost');
    expect((await limiter.acquire('k', one, 'b')).ok).toBe(false);
    clock.now += 5_000;
    expect((await limiter.acquire('k', one, 'b')).ok).toBe(true);
  });
});

describe('rate limit headers', () => {
  it('writes durations the way OpenAI does', () => {
    expect([0, 250, 1000, 1500, 59_999, 60_000, 61_500, 3_600_000, 3_723_400].map(formatDuration)).toEqual([
      '0ms',
      '250ms',
      '1s',
      '1.5s',
      '59.999s',
      '1m0s',
      '1m1.5s',
      '1h0m0s',
      '1h2m3.4s',
    ]);
  });

  it('describes the window with the fewest requests left, and tokens when limited', () => {
    const minute = { limit: 10, remaining: 4, resetMs: 20_000 };
    const day = { limit: 100, remaining: 3, resetMs: 3_600_000 };
    expect(rateLimitHeaders({ minute, day, tokens: { limit: 50, remaining: 7, resetMs: 900 } })).toEqual({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '3',
      'x-ratelimit-reset-requests': '1h0m0s',
      'x-ratelimit-limit-tokens': '50',
      'x-ratelimit-remaining-tokens': '7',
      'x-ratelimit-reset-tokens': '900ms',
    });
    expect(rateLimitHeaders({ minute })['x-ratelimit-limit-requests']).toBe('10');
    expect(rateLimitHeaders({})).toEqual({});
  });
});

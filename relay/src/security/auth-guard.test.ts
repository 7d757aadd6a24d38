import { describe, expect, it } from 'vitest';
import { AuthGuard } from './auth-guard.js';

describe('auth guard', () => {
  it('blocks an address after the threshold, for a period that doubles', () => {
    let now = 0;
    const guard = new AuthGuard({
      threshold: 3,
      windowMs: 1000,
      baseBlockMs: 10_000,
      maxBlockMs: 25_000,
      now: () => now,
    });
    guard.failed('a');
    guard.failed('a');
    expect(guard.retryAfter('a')).toBe(0);
    guard.failed('a');
    expect(guard.retryAfter('a')).toBe(10);
    expect(guard.retryAfter('b')).toBe(0);
    now = 10_000;
    expect(guard.retryAfter('a')).toBe(0);
    for (let i = 0; i < 3; i++) guard.failed('a');
    expect(guard.retryAfter('a')).toBe(20);
    now = 30_000;
    for (let i = 0; i < 3; i++) guard.failed('a');
    expect(guard.retryAfter('a')).toBe(25); // capped
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const guard = new AuthGuard({ threshold: 3, windowMs: 1000, now: () => now });
    guard.failed('a');
    guard.failed('a');
    now = 2000;
    guard.failed('a');
    expect(guard.retryAfter('a')).toBe(0);
  });

  it('stays bounded under many addresses', () => {
    const guard = new AuthGuard({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) guard.failed(`10.0.${i >> 8}.${i & 255}`);
    expect((guard as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(100);
  });
});

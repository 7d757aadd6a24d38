/**
 * The wait queue alone, with vitest's fake timers: FIFO service, refusals passed on, and the three
 * ways out (a full queue, a wait that runs out, a request that ends), each leaving no waiter behind.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import type { Route } from './route.js';
import { type Verdict, WaitQueue } from './wait-queue.js';

const route = (name: string) => ({ name }) as unknown as Route;
const signal =
  (abort = new AbortController()) =>
  () =>
    abort.signal;

// Real timers again after each test (the returned teardown).
beforeEach(() => {
  vi.useFakeTimers();
  return () => void vi.useRealTimers();
});

describe('WaitQueue', () => {
  it('serves waiters in arrival order while the pick finds routes, and passes refusals on', async () => {
    const queue = new WaitQueue<string>({ maxQueue: 10, maxWaitMs: 30_000 });
    const first = queue.wait('a', signal());
    const second = queue.wait('b', signal());
    const third = queue.wait('c', signal());
    const refusedThird = expect(third).rejects.toMatchObject({ code: 'model_not_found' });
    const asked: string[] = [];
    let free = 1;
    const pick = (entry: string): Verdict => {
      asked.push(entry);
      if (entry === 'c') return { error: new RelayError('model_not_found', 'gone') };
      return free-- > 0 ? { route: route(entry) } : { busy: true };
    };
    queue.serve(pick);
    expect(asked).toEqual(['a', 'b', 'c']);
    expect(await first).toEqual({ name: 'a' });
    await refusedThird;
    expect(queue.depth).toBe(1);
    free = 1;
    queue.serve(pick);
    expect(await second).toEqual({ name: 'b' });
    expect(queue.depth).toBe(0);
  });

  it('refuses at once when full, with a 429 that says retry', () => {
    const queue = new WaitQueue<number>({ maxQueue: 2, maxWaitMs: 30_000 });
    void queue.wait(1, signal()).catch(() => undefined);
    void queue.wait(2, signal()).catch(() => undefined);
    expect(() => queue.wait(3, signal())).toThrow(
      expect.objectContaining({ code: 'rate_limit_exceeded', retryAfter: 2, shouldRetry: true }),
    );
    expect(queue.depth).toBe(2);
  });

  it('a wait past maxWaitMs is refused as busy, not a moment before', async () => {
    const queue = new WaitQueue<number>({ maxQueue: 10, maxWaitMs: 5_000 });
    const waiting = queue.wait(1, signal());
    const refused = expect(waiting).rejects.toMatchObject({
      code: 'rate_limit_exceeded',
      message: expect.stringContaining('no capacity within 5s'),
    });
    vi.advanceTimersByTime(4_999);
    expect(queue.depth).toBe(1);
    vi.advanceTimersByTime(1);
    await refused;
    expect(queue.depth).toBe(0);
  });

  it('a request that ends while waiting leaves at once; one that already ended never joins', async () => {
    const queue = new WaitQueue<number>({ maxQueue: 10, maxWaitMs: 30_000 });
    const abort = new AbortController();
    const waiting = queue.wait(1, signal(abort));
    const ended = expect(waiting).rejects.toMatchObject({ code: 'timeout' });
    abort.abort();
    await ended;
    expect(queue.depth).toBe(0);
    expect(() => queue.wait(2, signal(abort))).toThrow(expect.objectContaining({ code: 'timeout' }));
    expect(queue.depth).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

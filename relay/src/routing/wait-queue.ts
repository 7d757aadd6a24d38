/**
 * The router's wait for capacity: a bounded FIFO queue of the requests that found every fit agent
 * busy. Whenever capacity may have freed up, each waiter in arrival order is offered to the
 * router's pick again: served with the Route it gives, refused with its error, or left waiting.
 * A waiter is turned away when the queue is full, its wait runs out, or its request ends.
 */
import { RelayError } from '../errors/relay-error.js';
import type { Route } from './route.js';

export type QueueOptions = {
  /** Most requests waiting at once (default 100). */
  maxQueue: number;
  /** Longest wait for capacity, in ms (default 30 000). */
  maxWaitMs: number;
};

/** What one pick gives a request: a Route, nothing free yet, or a refusal. */
export type Verdict = { route: Route } | { busy: true } | { error: RelayError };

type Waiter<T> = {
  entry: T;
  resolve(route: Route): void;
  reject(error: RelayError): void;
};

export class WaitQueue<T> {
  private readonly waiters: Waiter<T>[] = [];

  constructor(private readonly options: QueueOptions) {}

  /** Requests waiting. */
  get depth(): number {
    return this.waiters.length;
  }

  /**
   * Waits until `serve` finds `entry` a Route; throws a RelayError at once when the queue is full
   * or the request already ended. `signal` is asked only here, so only a request that waits makes one.
   */
  wait(entry: T, signal: () => AbortSignal): Promise<Route> {
    if (this.waiters.length >= this.options.maxQueue) throw busyError('the wait queue is full');
    const ended = signal();
    if (ended.aborted) throw endedError();
    const { maxWaitMs } = this.options;
    return new Promise<Route>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(busyError(`no capacity within ${maxWaitMs / 1000}s`));
      }, maxWaitMs);
      const onAbort = () => {
        remove();
        reject(endedError());
      };
      const remove = () => {
        clearTimeout(timer);
        ended.removeEventListener('abort', onAbort);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter<T> = {
        entry,
        resolve: (route) => {
          remove();
          resolve(route);
        },
        reject: (error) => {
          remove();
          reject(error);
        },
      };
      ended.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Offers each waiter, in FIFO order, to `pick`; a served or refused one leaves the queue. */
  serve(pick: (entry: T) => Verdict): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const verdict = pick(waiter.entry);
      if ('route' in verdict) waiter.resolve(verdict.route);
      else if ('error' in verdict) waiter.reject(verdict.error);
      else i++;
    }
  }
}

function busyError(why: string): RelayError {
  return new RelayError('rate_limit_exceeded', `every bridge is busy (${why}); retry shortly`, {
    retryAfter: 2,
    shouldRetry: true,
  });
}

function endedError(): RelayError {
  return new RelayError('timeout', 'request ended while waiting for capacity');
}

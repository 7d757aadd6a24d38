/**
 * Chooses the agent for each attempt of a request. Candidates advertise the model, are ready,
 * not draining, not benched by the cooldown and not yet tried for this request; a pinned session
 * (X-Session-Name) keeps its agent while that agent is alive and ready. When every candidate is
 * at capacity the request waits in a bounded FIFO queue.
 */
import { RelayError } from '../errors/relay-error.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { AgentSession } from '../tunnel/agent-session.js';
import type { Balancer } from './balancer.js';
import { Cooldown } from './cooldown.js';
import { type PinOutcome, StickyTable } from './sticky.js';

export type RouteRequest = {
  model: string;
  tried: ReadonlySet<string>;
  sessionName?: string | undefined;
  /**
   * Aborted when the consumer leaves or the request times out: the wait ends. A function, so the
   * signal is only made for requests that actually wait.
   */
  signal: () => AbortSignal;
};

/** A reserved slot on an agent: call `session.open` at once, or `session.release()`. */
export type Route = { session: AgentSession; pin: PinOutcome | undefined };

export type QueueOptions = {
  /** Most requests waiting at once (default 100). */
  maxQueue: number;
  /** Longest wait for capacity, in ms (default 30 000). */
  maxWaitMs: number;
};

type Verdict = { route: Route } | { busy: true } | { error: RelayError };

type Waiter = {
  request: RouteRequest;
  resolve(route: Route): void;
  reject(error: RelayError): void;
};

export class Router {
  readonly cooldown: Cooldown;
  readonly sticky = new StickyTable();
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly hub: AgentHub,
    private readonly balancer: Balancer,
    private readonly queueOptions: QueueOptions = { maxQueue: 100, maxWaitMs: 30_000 },
    cooldown?: Cooldown,
  ) {
    this.cooldown = cooldown ?? new Cooldown();
    hub.on('capacity', () => this.drainQueue());
  }

  /** Requests waiting for capacity. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Finds (or waits for) an agent and reserves a slot on it; throws a RelayError when none will do. */
  acquire(request: RouteRequest): Promise<Route> {
    const verdict = this.decide(request);
    if ('route' in verdict) return Promise.resolve(verdict.route);
    if ('error' in verdict) return Promise.reject(verdict.error);
    if (this.queue.length >= this.queueOptions.maxQueue) {
      return Promise.reject(this.busyError('the wait queue is full'));
    }
    const signal = request.signal();
    if (signal.aborted)
      return Promise.reject(new RelayError('timeout', 'request ended while waiting for capacity'));
    return new Promise<Route>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(this.busyError(`no capacity within ${this.queueOptions.maxWaitMs / 1000}s`));
      }, this.queueOptions.maxWaitMs);
      const onAbort = () => {
        remove();
        reject(new RelayError('timeout', 'request ended while waiting for capacity'));
      };
      const remove = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
      };
      const waiter: Waiter = {
        request,
        resolve: (route) => {
          remove();
          resolve(route);
        },
        reject: (error) => {
          remove();
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Every model some connected agent advertises, sorted. */
  models(): string[] {
    const all = new Set<string>();
    for (const session of this.hub.list()) for (const model of session.models) all.add(model);
    return [...all].sort();
  }

  /** Serves waiters in FIFO order while capacity lasts. */
  private drainQueue(): void {
    for (let i = 0; i < this.queue.length; ) {
      const waiter = this.queue[i]!;
      const verdict = this.decide(waiter.request);
      if ('route' in verdict) waiter.resolve(verdict.route);
      else if ('error' in verdict) waiter.reject(verdict.error);
      else i++;
    }
  }

  private decide(request: RouteRequest): Verdict {
    const sessions = this.hub.list();
    if (sessions.length === 0) {
      return {
        error: new RelayError('no_agents_available', 'no bridge agent is connected; try again shortly', {
          retryAfter: 5,
        }),
      };
    }
    const serving = sessions.filter((s) => s.models.has(request.model));
    if (serving.length === 0) {
      return {
        error: new RelayError(
          'model_not_found',
          `The model '${request.model}' is not served by any connected bridge`,
          {
            param: 'model',
          },
        ),
      };
    }
    const fitting = serving.filter(
      (s) => s.routable && !request.tried.has(s.id) && !this.cooldown.benched(s.agentKey),
    );
    if (fitting.length === 0) {
      return {
        error: new RelayError(
          'no_agents_available',
          `no bridge serving '${request.model}' is ready; try again shortly`,
          {
            retryAfter: 5,
          },
        ),
      };
    }
    let pin: PinOutcome | undefined;
    let pool = fitting;
    if (request.sessionName) {
      const pinnedKey = this.sticky.get(request.sessionName);
      const pinned = pinnedKey === undefined ? undefined : fitting.find((s) => s.agentKey === pinnedKey);
      if (pinned) {
        pin = 'kept';
        pool = [pinned];
      } else {
        pin = pinnedKey === undefined ? 'new' : 'repinned';
      }
    }
    const open = pool.filter((s) => s.hasCapacity);
    if (open.length === 0) return { busy: true };
    const session = this.balancer.pick(open);
    session.reserve();
    return { route: { session, pin } };
  }

  private busyError(why: string): RelayError {
    return new RelayError('rate_limit_exceeded', `every bridge is busy (${why}); retry shortly`, {
      retryAfter: 2,
      shouldRetry: true,
    });
  }
}

/**
 * Bridge clients' own limits (`rate_limit`), read when the router picks one of their agents.
 * Served from memory and refreshed in the background once older than `ttlMs` (default 1 s), so a
 * change made on any relay applies within about a second and the request path waits for the
 * store only the first time it meets a client.
 */
import type { ClientRateLimit, Store } from '../store/store.js';
import type { LimitSpec } from './limiter.js';

type Entry = { spec: LimitSpec | undefined; fetchedAt: number; refreshing?: Promise<LimitSpec | undefined> };

export function clientSpec(limits: ClientRateLimit): LimitSpec {
  return {
    requestsPerMinute: limits.requests_per_minute,
    requestsPerDay: limits.requests_per_day,
    maxConcurrency: limits.max_concurrency,
    tokensPerDay: null,
  };
}

export class ClientLimits {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: Pick<Store, 'getClient'>,
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The client's limits; undefined for a client the store does not know (deleted). */
  get(clientId: string): LimitSpec | undefined | Promise<LimitSpec | undefined> {
    const entry = this.entries.get(clientId);
    if (!entry) return this.fetch(clientId);
    if (this.now() - entry.fetchedAt > this.ttlMs && !entry.refreshing) {
      // Stale: answer with what we have; a store hiccup keeps the old value.
      this.fetch(clientId).catch(() => undefined);
    }
    return entry.refreshing && entry.fetchedAt === 0 ? entry.refreshing : entry.spec;
  }

  private fetch(clientId: string): Promise<LimitSpec | undefined> {
    const entry = this.entries.get(clientId) ?? { spec: undefined, fetchedAt: 0 };
    if (entry.refreshing) return entry.refreshing;
    const refreshing = this.store.getClient(clientId).then(
      (client) => {
        entry.spec = client ? clientSpec(client.rate_limit) : undefined;
        entry.fetchedAt = this.now();
        entry.refreshing = undefined;
        // Bounded by the number of clients; forget deleted ones.
        if (client) this.entries.set(clientId, entry);
        else this.entries.delete(clientId);
        return entry.spec;
      },
      (error: unknown) => {
        entry.refreshing = undefined;
        if (entry.fetchedAt === 0) this.entries.delete(clientId);
        throw error;
      },
    );
    entry.refreshing = refreshing;
    this.entries.set(clientId, entry);
    return refreshing;
  }
}

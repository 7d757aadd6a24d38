/**
 * The request log of one relay: the last `REQUEST_LOG_SIZE` requests it took from consumers, in a
 * ring (a flood of requests overwrites the oldest; memory stays at N bounded entries). Fed by the
 * Exchange's observer when a request ends, read by `GET /api/requests` (request-routes.ts). With
 * an archive (`REQUEST_LOG_PERSIST=on`, request-archive.ts) every entry is also kept on disk for
 * the retention period, and queries read the archive.
 */
import { z } from 'zod';
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import type { RequestArchive } from './request-archive.js';
import { entryOf, type RequestEntry } from './request-entry.js';

/** The most entries one query returns. */
export const MAX_QUERY_LIMIT = 1000;

const exact = z.string().min(1).max(256);
const time = z.number().int().min(0).max(8.64e15);

/** What a query asks for; it crosses to other relays as is, and is checked there against this. */
export const requestFilter = z.strictObject({
  id: exact.optional(),
  key: exact.optional(),
  /** The client or agent that served, or any attempt's. */
  client: exact.optional(),
  agent: exact.optional(),
  /** The model asked for, or the one that served. */
  model: exact.optional(),
  outcome: exact.optional(),
  /** Inclusive bounds on the HTTP status. */
  statusMin: z.number().int().min(0).max(999).optional(),
  statusMax: z.number().int().min(0).max(999).optional(),
  /** Start time bounds, ms since the epoch: `sinceMs` inclusive, `untilMs` exclusive. */
  sinceMs: time.optional(),
  untilMs: time.optional(),
  /** Newest first, at most this many. */
  limit: z.number().int().min(1).max(MAX_QUERY_LIMIT),
});
export type RequestFilter = z.infer<typeof requestFilter>;

/** Whether `entry` passes the filter's conditions (the limit aside). */
export function matchesRequest(entry: RequestEntry, f: RequestFilter): boolean {
  if (f.id !== undefined && entry.id !== f.id) return false;
  if (f.key !== undefined && entry.key_id !== f.key) return false;
  if (f.outcome !== undefined && entry.outcome !== f.outcome) return false;
  if (f.statusMin !== undefined && entry.status < f.statusMin) return false;
  if (f.statusMax !== undefined && entry.status > f.statusMax) return false;
  if (f.model !== undefined && entry.model !== f.model && entry.model_served !== f.model) return false;
  if (
    f.client !== undefined &&
    entry.client_id !== f.client &&
    !entry.attempts.some((a) => a.client_id === f.client)
  )
    return false;
  if (
    f.agent !== undefined &&
    entry.agent_id !== f.agent &&
    !entry.attempts.some((a) => a.agent_id === f.agent)
  )
    return false;
  if (f.sinceMs !== undefined || f.untilMs !== undefined) {
    const at = Date.parse(entry.at);
    if (f.sinceMs !== undefined && at < f.sinceMs) return false;
    if (f.untilMs !== undefined && at >= f.untilMs) return false;
  }
  return true;
}

export class RequestLog implements ExchangeObserver {
  private readonly ring: Array<RequestEntry | undefined>;
  /** Where the next entry goes: the oldest one once the ring is full. */
  private next = 0;
  private held = 0;

  /** `capacity`: entries kept in memory (0: none, the log is off). */
  constructor(
    private readonly capacity: number,
    private readonly relayId: string,
    private readonly archive?: RequestArchive,
  ) {
    this.ring = new Array(capacity);
  }

  /** Entries held now (at most the capacity). */
  get size(): number {
    return this.held;
  }

  finished(record: RequestRecord): void {
    if (this.capacity === 0) return;
    const entry = entryOf(record, this.relayId);
    this.ring[this.next] = entry;
    this.archive?.add(entry);
    this.next = (this.next + 1) % this.capacity;
    if (this.held < this.capacity) this.held++;
  }

  /** The matching entries, newest first. */
  query(filter: RequestFilter): RequestEntry[] {
    if (this.archive) return this.archive.query(filter);
    const found: RequestEntry[] = [];
    for (let i = 1; i <= this.held && found.length < filter.limit; i++) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      if (matchesRequest(entry, filter)) found.push(entry);
    }
    return found;
  }

  /** Writes what the archive holds and closes it. Idempotent. */
  close(): void {
    this.archive?.close();
  }
}

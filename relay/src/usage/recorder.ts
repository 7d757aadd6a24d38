/**
 * Write-behind buffer in front of the UsageStore: a finished request costs one Map update; the
 * counters go to the store every `flushMs` (default 1 s), before every read and at close. A batch
 * that fails is retried as it is (same rows, so Redis' batch marker can tell a retry from new
 * usage) before anything newer; memory stays bounded by the distinct hour × key × client × model
 * combinations of the requests in between.
 */
import type { Logger } from 'pino';
import {
  emptyCounters,
  HOUR_MS,
  type Hour,
  hourOf,
  type UsageFilter,
  type UsageRow,
  type UsageStore,
} from './usage-store.js';

/** One finished request, as metered. */
export type UsageEvent = {
  startedAt: Date;
  keyId: string;
  clientId: string | undefined;
  model: string;
  outcome: 'succeeded' | 'cancelled' | 'failed';
  promptTokens: number;
  completionTokens: number;
  estimated: boolean;
  durationMs: number;
  ttfbMs: number | undefined;
};

export class UsageRecorder {
  private pending = new Map<string, UsageRow>();
  private retry: UsageRow[] | undefined;
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastWarned = 0;
  private lastHour = { index: -1, hour: '' };

  constructor(
    private readonly store: UsageStore,
    private readonly logger?: Logger,
    flushMs = 1000,
  ) {
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.warn(error));
    }, flushMs);
    this.timer.unref();
  }

  add(event: UsageEvent): void {
    const hour = this.hourOf(event.startedAt.getTime());
    const clientId = event.clientId ?? '';
    // Ids and the hour never hold '|': the model, last, may hold anything.
    const id = `${hour}|${event.keyId}|${clientId}|${event.model}`;
    let row = this.pending.get(id);
    if (!row) {
      row = { hour, keyId: event.keyId, clientId, model: event.model, ...emptyCounters() };
      this.pending.set(id, row);
    }
    row.requests++;
    if (event.outcome === 'succeeded') row.succeeded++;
    else if (event.outcome === 'cancelled') row.cancelled++;
    else row.failed++;
    row.promptTokens += event.promptTokens;
    row.completionTokens += event.completionTokens;
    if (event.estimated) row.estimatedRequests++;
    row.durationMs += Math.round(event.durationMs);
    if (event.ttfbMs !== undefined) {
      row.ttfbMs += Math.round(event.ttfbMs);
      row.ttfbCount++;
    }
  }

  /** Writes everything recorded so far; resolves once it is stored. */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    if (!this.retry && this.pending.size === 0) return;
    const run = this.write();
    this.running = run;
    try {
      await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Stored usage matching `filter`, including what this relay has not written yet. */
  async query(filter: UsageFilter): Promise<UsageRow[]> {
    await this.flush();
    return this.store.query(filter);
  }

  /** Stops the timer, writes what is left (a failure is logged, not thrown) and closes the store. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.flush();
    } catch (error) {
      this.logger?.error({ err: error }, 'usage: could not write the last batch before closing');
    }
    await this.store.close();
  }

  private async write(): Promise<void> {
    if (this.retry) {
      await this.store.add(this.retry);
      this.retry = undefined;
    }
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.add(rows);
    } catch (error) {
      this.retry = rows;
      throw error;
    }
  }

  /** `hourOf`, remembered for the current hour (one Date and string per hour, not per request). */
  private hourOf(ms: number): Hour {
    const index = Math.floor(ms / HOUR_MS);
    if (index !== this.lastHour.index) this.lastHour = { index, hour: hourOf(ms) };
    return this.lastHour.hour;
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarned < 10_000) return;
    this.lastWarned = now;
    this.logger?.warn({ err: error }, 'usage: could not write a batch; it will be retried');
  }
}

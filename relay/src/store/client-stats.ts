/**
 * Clients' live stats: the health rule, and a write-behind buffer so that recording an outcome
 * per request costs a Map update, not a disk sync or a network round trip.
 *
 * Health rule: fewer than HEALTH_MIN_REQUESTS recorded outcomes → `unknown`; otherwise the
 * recent success rate r (exponentially weighted: each request weighs HEALTH_DECAY times the
 * next newer one, so roughly the last 10–20 requests count) gives r ≥ 0.9 `healthy`,
 * r ≥ 0.5 `degraded`, else `unhealthy`.
 *
 * Stores keep `recent_success`, the un-normalised weighted sum S (S ← S·HEALTH_DECAY + (1−HEALTH_DECAY)·x
 * per outcome x ∈ {0,1}, starting at 0); r = S / (1 − HEALTH_DECAY^n) removes the bias of the
 * zero start. A batch of k outcomes folds into (decay, add) so that S' = S·decay + add.
 */
import type { ClientHealth, ClientOutcome } from './store.js';

export const HEALTH_DECAY = 0.9;
export const HEALTH_MIN_REQUESTS = 5;
/** How often buffered outcomes are written, milliseconds. */
export const OUTCOME_FLUSH_MS = 1000;

/** Outcomes of one client not yet written, folded (constant size however many). */
export type OutcomeDelta = {
  total: number;
  ok: number;
  failed: number;
  /** Sum of durations, milliseconds. */
  msSum: number;
  decay: number;
  add: number;
};

/** Stored counters of a client, as both stores keep them. */
export type StatsColumns = {
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  response_ms_total: number;
  recent_success: number;
};

export function clientHealth(total: number, recentSuccess: number): ClientHealth {
  if (total < HEALTH_MIN_REQUESTS) return 'unknown';
  const rate = recentSuccess / (1 - HEALTH_DECAY ** total);
  if (rate >= 0.9) return 'healthy';
  if (rate >= 0.5) return 'degraded';
  return 'unhealthy';
}

/** The public stats fields of a ClientRecord from the stored counters. */
export function publicStats(s: StatsColumns) {
  return {
    total_requests: s.total_requests,
    successful_requests: s.successful_requests,
    failed_requests: s.failed_requests,
    avg_response_ms: s.total_requests > 0 ? Math.round(s.response_ms_total / s.total_requests) : null,
    health: clientHealth(s.total_requests, s.recent_success),
  };
}

/** `older` then `newer`, as one delta. */
function combine(older: OutcomeDelta, newer: OutcomeDelta): OutcomeDelta {
  return {
    total: older.total + newer.total,
    ok: older.ok + newer.ok,
    failed: older.failed + newer.failed,
    msSum: older.msSum + newer.msSum,
    decay: older.decay * newer.decay,
    add: older.add * newer.decay + newer.add,
  };
}

export type ApplyOutcomes = (batch: Map<string, OutcomeDelta>) => void | Promise<void>;

/**
 * Collects outcomes per client and hands them to `apply` every OUTCOME_FLUSH_MS, and whenever
 * `flush()` is called (stores call it before reads, so a read sees every recorded outcome). A
 * batch that fails to apply is merged back and retried on the next flush: memory stays bounded
 * by the number of clients.
 */
export class OutcomeBuffer {
  private pending = new Map<string, OutcomeDelta>();
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly apply: ApplyOutcomes) {
    // A failed periodic flush keeps its batch for the next attempt; nothing to report per tick.
    this.timer = setInterval(() => this.flush().catch(() => {}), OUTCOME_FLUSH_MS);
    this.timer.unref();
  }

  add(id: string, outcome: ClientOutcome): void {
    const ok = outcome.ok ? 1 : 0;
    const ms = Number.isFinite(outcome.durationMs) && outcome.durationMs > 0 ? outcome.durationMs : 0;
    const one: OutcomeDelta = {
      total: 1,
      ok,
      failed: 1 - ok,
      msSum: ms,
      decay: HEALTH_DECAY,
      add: (1 - HEALTH_DECAY) * ok,
    };
    const prev = this.pending.get(id);
    this.pending.set(id, prev ? combine(prev, one) : one);
  }

  /** Writes everything recorded so far; resolves once it is stored. */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const run = Promise.resolve()
      .then(() => this.apply(batch))
      .catch((error: unknown) => {
        for (const [id, older] of batch) {
          const newer = this.pending.get(id);
          this.pending.set(id, newer ? combine(older, newer) : older);
        }
        throw error;
      });
    this.running = run;
    try {
      await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/**
 * A store's `close()`: idempotent; writes the outcomes still buffered, then releases the backend
 * (`release`) even when that last write fails.
 */
export function closeAfterOutcomes(
  outcomes: OutcomeBuffer,
  release: () => void | Promise<void>,
): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    try {
      await outcomes.stop();
    } finally {
      await release();
    }
  };
}

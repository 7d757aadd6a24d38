/**
 * The Limiter: counts requests against per-scope limits (a scope is `key:<id>` or `client:<id>`)
 * atomically, so N parallel requests against a limit of L admit exactly L. Two implementations
 * with one behaviour: in memory (one relay) and Redis (one Lua script per admission, shared by
 * every relay on the prefix).
 *
 * Windows:
 * - `requests_per_minute`: a fixed 60 s window that opens with the first request after the
 *   previous window closed (Redis: INCR + PEXPIRE). Exact and O(1); a client may get up to 2×L
 *   across the edge of two windows.
 * - `requests_per_day`, `tokens_per_day`: the UTC calendar day; they reset at 00:00 UTC.
 * - `max_concurrency`: leases held from admission until the request ends. A lease also expires
 *   after `leaseTtlMs` (longer than any request may last), so a relay that dies holding leases
 *   cannot block a key for ever.
 *
 * An admission is all or nothing: a refused request counts against no window.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Limits of one scope; null = no limit of this kind. */
export type LimitSpec = {
  requestsPerMinute: number | null;
  requestsPerDay: number | null;
  maxConcurrency: number | null;
  /** Checked at admission against the tokens charged so far today (see `addTokens`). */
  tokensPerDay: number | null;
};

export type LimitName = 'requests_per_minute' | 'requests_per_day' | 'max_concurrency' | 'tokens_per_day';

/** One window after the admission: how much is left and when it resets (ms from now). */
export type WindowState = { limit: number; remaining: number; resetMs: number };

/** The windows a scope has, as they stand after the admission (or refusal). */
export type LimitSnapshot = {
  minute?: WindowState;
  day?: WindowState;
  tokens?: WindowState;
};

export type Decision =
  | { ok: true; snapshot: LimitSnapshot; leased: boolean }
  | { ok: false; snapshot: LimitSnapshot; refusedBy: LimitName[]; retryAfterMs: number }
  /** The limiter could not decide (Redis down) and RATE_LIMIT_FAIL_MODE is `open`: admitted. */
  | { ok: true; degraded: true; leased: false };

export interface Limiter {
  /**
   * Checks every limit of `scope`; when all pass, counts the request in each window and (when
   * `spec.maxConcurrency` is set) takes the lease `leaseId`. Never hangs: when Redis does not
   * answer in time the Redis limiter admits (`degraded`) or rejects with a 503 RelayError,
   * by its fail mode.
   */
  acquire(scope: string, spec: LimitSpec, leaseId: string): Promise<Decision>;
  /** Gives back a lease taken by `acquire`. Unknown leases are ignored. */
  release(scope: string, leaseId: string): Promise<void>;
  /**
   * Takes back one admission of `scope` from the minute and day windows (never below zero), for
   * a request the relay refused itself before serving it (a prompt too long for every bridge).
   */
  refund(scope: string, spec: LimitSpec): Promise<void>;
  /** Charges tokens to today's `tokens_per_day` counter of `scope`. */
  addTokens(scope: string, tokens: number): Promise<void>;
  close(): Promise<void>;
}

/** True when the spec limits anything. */
export function hasLimits(spec: LimitSpec): boolean {
  return (
    spec.requestsPerMinute !== null ||
    spec.requestsPerDay !== null ||
    spec.maxConcurrency !== null ||
    spec.tokensPerDay !== null
  );
}

/** The UTC day of `now` (days since the epoch) and the ms left until it ends. */
export function utcDay(now: number): { day: number; endsAt: number } {
  const day = Math.floor(now / DAY_MS);
  return { day, endsAt: (day + 1) * DAY_MS };
}

/** Counters of one scope as a check sees them (and as they stand after an admission). */
export type Counts = {
  minuteUsed: number;
  /** Until the minute window closes; a full minute when none is open. */
  minuteResetMs: number;
  dayUsed: number;
  dayResetMs: number;
  inFlight: number;
  tokensUsed: number;
};

/** True when one more request would break a limit. */
export function over(spec: LimitSpec, c: Counts): boolean {
  return (
    (spec.requestsPerMinute !== null && c.minuteUsed >= spec.requestsPerMinute) ||
    (spec.requestsPerDay !== null && c.dayUsed >= spec.requestsPerDay) ||
    (spec.maxConcurrency !== null && c.inFlight >= spec.maxConcurrency) ||
    (spec.tokensPerDay !== null && c.tokensUsed >= spec.tokensPerDay)
  );
}

/**
 * The pieces both implementations share: from the counters as they stand after the check,
 * the snapshot, the limits that refuse, and how long until the refusal lifts.
 */
export function decide(
  spec: LimitSpec,
  counts: Counts,
  admitted: boolean,
): { snapshot: LimitSnapshot; refusedBy: LimitName[]; retryAfterMs: number } {
  const snapshot: LimitSnapshot = {};
  const refusedBy: LimitName[] = [];
  let retryAfterMs = 0;
  const window = (limit: number, used: number, resetMs: number): WindowState => ({
    limit,
    remaining: Math.max(0, limit - used),
    resetMs: Math.max(0, resetMs),
  });
  const refuse = (name: LimitName, ms: number) => {
    refusedBy.push(name);
    retryAfterMs = Math.max(retryAfterMs, ms);
  };
  const { requestsPerMinute: rpm, requestsPerDay: rpd, maxConcurrency: mc, tokensPerDay: tpd } = spec;
  if (rpm !== null) {
    snapshot.minute = window(rpm, counts.minuteUsed, counts.minuteResetMs);
    if (!admitted && counts.minuteUsed >= rpm) refuse('requests_per_minute', counts.minuteResetMs);
  }
  if (rpd !== null) {
    snapshot.day = window(rpd, counts.dayUsed, counts.dayResetMs);
    if (!admitted && counts.dayUsed >= rpd) refuse('requests_per_day', counts.dayResetMs);
  }
  // When a slot frees is unknown: a second is the polite retry.
  if (mc !== null && !admitted && counts.inFlight >= mc) refuse('max_concurrency', 1000);
  if (tpd !== null) {
    snapshot.tokens = window(tpd, counts.tokensUsed, counts.dayResetMs);
    if (!admitted && counts.tokensUsed >= tpd) refuse('tokens_per_day', counts.dayResetMs);
  }
  return { snapshot, refusedBy, retryAfterMs };
}

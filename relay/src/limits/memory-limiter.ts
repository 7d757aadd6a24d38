/**
 * The Limiter of an embedded relay: counters in this process. Every admission runs to the end
 * synchronously, so parallel requests cannot interleave between check and count. Memory is
 * bounded by the number of scopes that have limits (plus their in-flight leases).
 */
import {
  type Counts,
  type Decision,
  decide,
  type Limiter,
  type LimitSpec,
  MINUTE_MS,
  over,
  utcDay,
} from './limiter.js';

type DayCounter = { day: number; count: number };

export class MemoryLimiter implements Limiter {
  private readonly minutes = new Map<string, { count: number; endsAt: number }>();
  private readonly days = new Map<string, DayCounter>();
  private readonly tokens = new Map<string, DayCounter>();
  /** scope → lease id → expiry (ms epoch). */
  private readonly leases = new Map<string, Map<string, number>>();

  /**
   * @param leaseTtlMs how long a concurrency lease lives at most (a request never lasts longer).
   * @param now the clock, replaceable in tests.
   */
  constructor(
    private readonly leaseTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(scope: string, spec: LimitSpec, leaseId: string): Promise<Decision> {
    const now = this.now();
    const { day, endsAt } = utcDay(now);
    let minute = this.minutes.get(scope);
    if (minute && minute.endsAt <= now) {
      this.minutes.delete(scope);
      minute = undefined;
    }
    const held = this.liveLeases(scope, now);
    const counts: Counts = {
      minuteUsed: minute?.count ?? 0,
      minuteResetMs: minute ? minute.endsAt - now : MINUTE_MS,
      dayUsed: dayCount(this.days.get(scope), day),
      dayResetMs: endsAt - now,
      inFlight: held?.size ?? 0,
      tokensUsed: dayCount(this.tokens.get(scope), day),
    };
    if (over(spec, counts)) {
      const { snapshot, refusedBy, retryAfterMs } = decide(spec, counts, false);
      return { ok: false, snapshot, refusedBy, retryAfterMs };
    }
    if (spec.requestsPerMinute !== null) {
      if (!minute) {
        minute = { count: 0, endsAt: now + MINUTE_MS };
        this.minutes.set(scope, minute);
      }
      counts.minuteUsed = ++minute.count;
    }
    if (spec.requestsPerDay !== null) {
      const counter = bump(this.days, scope, day, 1);
      counts.dayUsed = counter.count;
    }
    let leased = false;
    if (spec.maxConcurrency !== null) {
      const map = held ?? new Map<string, number>();
      map.set(leaseId, now + this.leaseTtlMs);
      this.leases.set(scope, map);
      counts.inFlight = map.size;
      leased = true;
    }
    return { ok: true, snapshot: decide(spec, counts, true).snapshot, leased };
  }

  async release(scope: string, leaseId: string): Promise<void> {
    const held = this.leases.get(scope);
    if (!held) return;
    held.delete(leaseId);
    if (held.size === 0) this.leases.delete(scope);
  }

  async refund(scope: string, spec: LimitSpec): Promise<void> {
    const now = this.now();
    const minute = this.minutes.get(scope);
    if (spec.requestsPerMinute !== null && minute && minute.endsAt > now && minute.count > 0) minute.count--;
    const day = this.days.get(scope);
    if (spec.requestsPerDay !== null && day && day.day === utcDay(now).day && day.count > 0) day.count--;
  }

  async addTokens(scope: string, tokens: number): Promise<void> {
    if (tokens > 0) bump(this.tokens, scope, utcDay(this.now()).day, tokens);
  }

  async close(): Promise<void> {
    this.minutes.clear();
    this.days.clear();
    this.tokens.clear();
    this.leases.clear();
  }

  /** The scope's leases with expired ones dropped. */
  private liveLeases(scope: string, now: number): Map<string, number> | undefined {
    const held = this.leases.get(scope);
    if (!held) return undefined;
    for (const [id, expires] of held) if (expires <= now) held.delete(id);
    return held;
  }
}

function dayCount(counter: DayCounter | undefined, day: number): number {
  return counter && counter.day === day ? counter.count : 0;
}

/** Adds `n` to today's counter of `scope`, starting a new one on a new day. */
function bump(map: Map<string, DayCounter>, scope: string, day: number, n: number): DayCounter {
  let counter = map.get(scope);
  if (!counter || counter.day !== day) {
    counter = { day, count: 0 };
    map.set(scope, counter);
  }
  counter.count += n;
  return counter;
}

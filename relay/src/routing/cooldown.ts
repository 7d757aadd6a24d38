/**
 * Circuit breaking: an agent that fails repeatedly before the first byte is benched for a
 * growing period (base · 2^(trips-1), capped), then let back in on probation — one success
 * clears it, one failure benches it again for longer. Keyed by client + agent instance so a
 * flapping agent cannot escape by reconnecting. Each bench is told to the `onTrip` listeners
 * as it happens (metrics count them), so nobody polls trip counts.
 */

export type CooldownOptions = {
  /** Consecutive failures that bench an agent (default 3). */
  threshold?: number;
  /** First bench period, in ms (default 5 000). */
  baseMs?: number;
  /** Longest bench period, in ms (default 300 000). */
  capMs?: number;
  now?: () => number;
};

export type CooldownState = {
  failures: number;
  trips: number;
  /** Benched until this time (epoch ms); 0 when not benched. */
  until: number;
  reason: string | undefined;
};

/** A bench: the key (an agent, or one model on it: routing/route.ts) and for how long, ms. */
export type CooldownTrip = { key: string; periodMs: number };

export class Cooldown {
  private readonly states = new Map<string, CooldownState>();
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly now: () => number;
  private readonly tripListeners: Array<(trip: CooldownTrip) => void> = [];

  constructor(options: CooldownOptions = {}) {
    this.threshold = options.threshold ?? 3;
    this.baseMs = options.baseMs ?? 5_000;
    this.capMs = options.capMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** Calls `listener` on every bench, synchronously, from `failure`. */
  onTrip(listener: (trip: CooldownTrip) => void): void {
    this.tripListeners.push(listener);
  }

  /** True while the agent is benched. */
  benched(key: string): boolean {
    const state = this.states.get(key);
    return state !== undefined && state.until > this.now();
  }

  /** The agent's state for the admin API, if it has failed recently. */
  state(key: string): CooldownState | undefined {
    return this.states.get(key);
  }

  success(key: string): void {
    this.states.delete(key);
  }

  /** Records a failure; returns the bench period in ms when this failure benched the agent. */
  failure(key: string, reason: string): number | undefined {
    const state = this.states.get(key) ?? { failures: 0, trips: 0, until: 0, reason: undefined };
    this.states.set(key, state);
    state.failures++;
    state.reason = reason;
    // On probation (benched before, period over) a single failure benches again.
    const probation = state.trips > 0 && state.until <= this.now();
    if (state.failures < this.threshold && !probation) return undefined;
    state.trips++;
    const period = Math.min(this.capMs, this.baseMs * 2 ** (state.trips - 1));
    state.until = this.now() + period;
    state.failures = 0;
    for (const listener of this.tripListeners) listener({ key, periodMs: period });
    return period;
  }
}

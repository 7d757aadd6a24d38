/** Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"). */

export type BackoffOptions = {
  /** First ceiling, in ms (default 500). */
  baseMs?: number;
  /** Largest ceiling, in ms (default 30 000). */
  capMs?: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
};

/** Delay before attempt `attempt` (0-based): uniform in [0, min(cap, base·2^attempt)). */
export function fullJitterDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.capMs ?? 30_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

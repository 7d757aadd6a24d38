/**
 * The exponentially weighted moving average the latency strategy ranks agents by (time to first
 * byte). One definition, so that an agent on this relay and the same agent seen from another
 * relay of the cluster (RemoteAgent) are weighed alike.
 */

/** Weight of the newest sample: roughly the last 5–10 requests count. */
export const EWMA_ALPHA = 0.2;

/**
 * The average after `sample`; the first sample (no `previous`) is taken as it is, so a new agent
 * is not ranked as if its past were 0 ms. A sample that is not a finite number ≥ 0 (a clock step)
 * leaves the average as it was.
 */
export function ewma(previous: number | undefined, sample: number, alpha = EWMA_ALPHA): number | undefined {
  if (!Number.isFinite(sample) || sample < 0) return previous;
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}

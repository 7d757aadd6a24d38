/**
 * The fixed-bound latency histogram of the rolling windows: the bins' upper bounds, the bin a
 * duration falls in, and percentiles estimated from the counts (linear interpolation inside a
 * bin), which is plenty for an operator's view and keeps memory constant whatever the traffic.
 */

/** Upper bounds of the latency histogram bins, ms; the last bin is open-ended. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 75, 100, 150, 250, 400, 600, 1_000, 1_500, 2_500, 4_000, 6_000, 10_000, 15_000, 25_000,
  40_000, 60_000, 120_000, 300_000,
];
export const BINS = LATENCY_BOUNDS_MS.length + 1;

export type Percentiles = { p50: number; p90: number; p99: number };

export function binOf(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** Estimates the q-quantile (0–1) of a histogram holding `total` samples. */
export function quantile(bins: Uint32Array, total: number, q: number): number {
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    const count = bins[i]!;
    if (count === 0) continue;
    if (seen + count >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i];
      if (upper === undefined) return lower;
      return Math.round(lower + ((upper - lower) * (rank - seen)) / count);
    }
    seen += count;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}

export function percentiles(bins: Uint32Array, total: number): Percentiles {
  return {
    p50: quantile(bins, total, 0.5),
    p90: quantile(bins, total, 0.9),
    p99: quantile(bins, total, 0.99),
  };
}

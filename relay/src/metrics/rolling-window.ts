/**
 * Bounded rolling counters for `/api/stats`: per series, three rings of time buckets (60 × 1 s,
 * 60 × 1 min, 24 × 1 h) holding request counts and, optionally, fixed-bound latency histograms.
 * Memory per series is constant whatever the traffic; percentiles are estimated from the
 * histograms (linear interpolation inside a bucket), which is plenty for an operator's view.
 */
import { type OutcomeClass, successRate } from './figures.js';

/** Upper bounds of the latency histogram bins, ms; the last bin is open-ended. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 75, 100, 150, 250, 400, 600, 1_000, 1_500, 2_500, 4_000, 6_000, 10_000, 15_000, 25_000,
  40_000, 60_000, 120_000, 300_000,
];
const BINS = LATENCY_BOUNDS_MS.length + 1;

export const WINDOWS = {
  minute: { bucketMs: 1_000, buckets: 60 },
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 3_600_000, buckets: 24 },
} as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

/** One finished request as the windows count it (`outcome`: its class, proxy/outcome.ts). */
export type Sample = { outcome: OutcomeClass; durationMs: number; ttfbMs: number | undefined; bytes: number };

/** What a bucket counts; one list, so creating, clearing and summing buckets cannot miss one. */
const COUNTERS = [
  'requests',
  'ok',
  'failed',
  'consumer_error',
  'cancelled',
  'bytes',
  'durationSumMs',
] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

function zeroCounters(): Counters {
  return Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Counters;
}

type Bucket = Counters & {
  /** Which time slot (epoch ms / bucketMs) the counts belong to. */
  slot: number;
  duration: Uint32Array | undefined;
  ttfb: Uint32Array | undefined;
};

export type Percentiles = { p50: number; p90: number; p99: number };

/** What a window says about one series. Rates are fractions (0–1), latencies milliseconds. */
export type WindowSummary = {
  requests: number;
  successful: number;
  failed: number;
  /** The consumer's own errors (4xx: bad request, unknown model, rate limit…); not failures. */
  consumer_errors: number;
  /** Consumer left before the end; neither a success nor a failure. */
  cancelled: number;
  /** Requests per second over the whole window. */
  request_rate: number;
  /** successful / (successful + failed); null before the first finished request. */
  success_rate: number | null;
  bytes: number;
  latency_ms: (Percentiles & { mean: number }) | null;
  ttfb_ms: Percentiles | null;
};

/** Requests per bucket of one window, oldest first, for charts. */
export type Timeline = { bucket_seconds: number; end: string; requests: number[]; failed: number[] };

function binOf(ms: number): number {
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

function percentiles(bins: Uint32Array, total: number): Percentiles {
  return {
    p50: quantile(bins, total, 0.5),
    p90: quantile(bins, total, 0.9),
    p99: quantile(bins, total, 0.99),
  };
}

class Ring {
  private readonly buckets: (Bucket | undefined)[];

  constructor(
    private readonly bucketMs: number,
    private readonly size: number,
    private readonly latency: boolean,
  ) {
    this.buckets = new Array(size);
  }

  add(sample: Sample, now: number): void {
    const slot = Math.floor(now / this.bucketMs);
    const index = slot % this.size;
    let bucket = this.buckets[index];
    if (!bucket) {
      bucket = {
        slot,
        ...zeroCounters(),
        duration: this.latency ? new Uint32Array(BINS) : undefined,
        ttfb: this.latency ? new Uint32Array(BINS) : undefined,
      };
      this.buckets[index] = bucket;
    } else if (bucket.slot !== slot) {
      bucket.slot = slot;
      for (const name of COUNTERS) bucket[name] = 0;
      bucket.duration?.fill(0);
      bucket.ttfb?.fill(0);
    }
    bucket.requests++;
    bucket[sample.outcome]++;
    bucket.bytes += sample.bytes;
    bucket.durationSumMs += sample.durationMs;
    if (bucket.duration) bucket.duration[binOf(sample.durationMs)]!++;
    if (bucket.ttfb && sample.ttfbMs !== undefined) bucket.ttfb[binOf(sample.ttfbMs)]!++;
  }

  /** Buckets of the current slot and the `size - 1` before it. */
  private live(now: number): Bucket[] {
    const current = Math.floor(now / this.bucketMs);
    return this.buckets.filter((b): b is Bucket => b !== undefined && b.slot > current - this.size);
  }

  summary(now: number): WindowSummary {
    const sum = zeroCounters();
    const duration = new Uint32Array(BINS);
    const ttfb = new Uint32Array(BINS);
    for (const b of this.live(now)) {
      for (const name of COUNTERS) sum[name] += b[name];
      if (b.duration) for (let i = 0; i < BINS; i++) duration[i]! += b.duration[i]!;
      if (b.ttfb) for (let i = 0; i < BINS; i++) ttfb[i]! += b.ttfb[i]!;
    }
    const ttfbCount = ttfb.reduce((sum, n) => sum + n, 0);
    const windowSeconds = (this.bucketMs * this.size) / 1000;
    const { requests, ok, failed } = sum;
    return {
      requests,
      successful: ok,
      failed,
      consumer_errors: sum.consumer_error,
      cancelled: sum.cancelled,
      request_rate: round(requests / windowSeconds, 6),
      success_rate: roundRate(successRate(ok, failed)),
      bytes: sum.bytes,
      latency_ms:
        this.latency && requests > 0
          ? { ...percentiles(duration, requests), mean: Math.round(sum.durationSumMs / requests) }
          : null,
      ttfb_ms: this.latency && ttfbCount > 0 ? percentiles(ttfb, ttfbCount) : null,
    };
  }

  timeline(now: number): Timeline {
    const current = Math.floor(now / this.bucketMs);
    const requests = new Array<number>(this.size).fill(0);
    const failed = new Array<number>(this.size).fill(0);
    for (const b of this.live(now)) {
      const at = this.size - 1 - (current - b.slot);
      requests[at] = b.requests;
      failed[at] = b.failed;
    }
    return {
      bucket_seconds: this.bucketMs / 1000,
      end: new Date((current + 1) * this.bucketMs).toISOString(),
      requests,
      failed,
    };
  }
}

function roundRate(rate: number | null): number | null {
  return rate === null ? null : round(rate, 4);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** One series (overall, a client, a key): a ring per window. */
export class RollingSeries {
  private readonly rings: Record<WindowName, Ring>;
  /** Epoch ms of the last sample, for eviction. */
  lastAt = 0;

  constructor(options: { latency: boolean }) {
    this.rings = {
      minute: new Ring(WINDOWS.minute.bucketMs, WINDOWS.minute.buckets, options.latency),
      hour: new Ring(WINDOWS.hour.bucketMs, WINDOWS.hour.buckets, options.latency),
      day: new Ring(WINDOWS.day.bucketMs, WINDOWS.day.buckets, options.latency),
    };
  }

  add(sample: Sample, now: number): void {
    this.lastAt = now;
    for (const name of WINDOW_NAMES) this.rings[name].add(sample, now);
  }

  summaries(now: number): Record<WindowName, WindowSummary> {
    return {
      minute: this.rings.minute.summary(now),
      hour: this.rings.hour.summary(now),
      day: this.rings.day.summary(now),
    };
  }

  /** Requests per minute over the last hour. */
  timeline(now: number): Timeline {
    return this.rings.hour.timeline(now);
  }
}

/**
 * Series by id (client id, key id), at most `max` of them: recording into a new id when full
 * forgets the series that was recorded into least recently.
 */
export class SeriesMap {
  private readonly series = new Map<string, RollingSeries>();

  constructor(
    private readonly max: number,
    private readonly latency: boolean,
  ) {}

  add(id: string, sample: Sample, now: number): void {
    let series = this.series.get(id);
    if (series) {
      // Re-inserted so that Map order is least recently used first.
      this.series.delete(id);
    } else {
      series = new RollingSeries({ latency: this.latency });
      if (this.series.size >= this.max) {
        const oldest = this.series.keys().next().value;
        if (oldest !== undefined) this.series.delete(oldest);
      }
    }
    this.series.set(id, series);
    series.add(sample, now);
  }

  get size(): number {
    return this.series.size;
  }

  /** Series that recorded something within the last day, most recently used first. */
  entries(now: number): [string, RollingSeries][] {
    const dayMs = WINDOWS.day.bucketMs * WINDOWS.day.buckets;
    return [...this.series].filter(([, s]) => now - s.lastAt < dayMs).reverse();
  }
}

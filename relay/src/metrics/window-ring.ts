/**
 * One ring of time buckets of a rolling window (e.g. 60 × 1 s): each bucket counts the requests
 * of its time slot by outcome, their bytes and durations and, optionally, their latency and
 * time-to-first-byte histograms (latency-histogram.ts). A bucket is reused when its slot comes
 * round again, so a ring's memory is constant; what it says is a WindowSummary or a Timeline.
 */
import { type OutcomeClass, successRate } from './figures.js';
import { BINS, binOf, type Percentiles, percentiles } from './latency-histogram.js';

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

/** `size` buckets of `bucketMs` each, the last `size` slots; `latency` adds the histograms. */
export class Ring {
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

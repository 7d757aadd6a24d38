/**
 * Bounded rolling counters for `/api/stats`: per series, three rings of time buckets (60 × 1 s,
 * 60 × 1 min, 24 × 1 h; window-ring.ts) holding request counts and, optionally, fixed-bound
 * latency histograms (latency-histogram.ts). Memory per series is constant whatever the traffic,
 * and the number of series per map is capped.
 */
import { Ring, type Sample, type Timeline, type WindowSummary } from './window-ring.js';

export type { Percentiles } from './latency-histogram.js';
export type { Sample, Timeline, WindowSummary } from './window-ring.js';

export const WINDOWS = {
  minute: { bucketMs: 1_000, buckets: 60 },
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 3_600_000, buckets: 24 },
} as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

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

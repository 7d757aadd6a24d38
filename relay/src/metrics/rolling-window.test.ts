import { describe, expect, it } from 'vitest';
import { requestRecord as record, T0 } from '../test-support/request-record.js';
import { RequestStats } from './request-stats.js';
import { RollingSeries, type Sample, SeriesMap } from './rolling-window.js';

const ok = (durationMs: number, ttfbMs?: number): Sample => ({
  outcome: 'ok',
  durationMs,
  ttfbMs,
  bytes: 10,
});

describe('rolling windows', () => {
  it('forget samples once they leave each window', () => {
    const series = new RollingSeries({ latency: true });
    series.add(ok(100), T0);
    series.add({ outcome: 'failed', durationMs: 50, ttfbMs: undefined, bytes: 0 }, T0 + 500);
    series.add({ outcome: 'cancelled', durationMs: 20, ttfbMs: undefined, bytes: 0 }, T0 + 900);

    const now = series.summaries(T0 + 1_000);
    expect(now.minute).toMatchObject({ requests: 3, successful: 1, failed: 1, cancelled: 1, bytes: 10 });
    expect(now.minute.success_rate).toBe(0.5);
    expect(now.minute.request_rate).toBe(0.05);

    const later = series.summaries(T0 + 61_000);
    expect(later.minute.requests).toBe(0);
    expect(later.minute.success_rate).toBeNull();
    expect(later.minute.latency_ms).toBeNull();
    expect(later.hour.requests).toBe(3);

    expect(series.summaries(T0 + 3_601_000).hour.requests).toBe(0);
    expect(series.summaries(T0 + 3_601_000).day.requests).toBe(3);
    expect(series.summaries(T0 + 25 * 3_600_000).day.requests).toBe(0);
  });

  it('reuses a ring slot for a new period instead of adding to the old one', () => {
    const series = new RollingSeries({ latency: false });
    series.add(ok(1), T0);
    series.add(ok(1), T0 + 60_000); // same index in the 60 × 1 s ring, a minute later
    expect(series.summaries(T0 + 60_000).minute.requests).toBe(1);
    expect(series.summaries(T0 + 60_000).hour.requests).toBe(2);
  });

  it('estimates percentiles from the histogram within a bin', () => {
    const series = new RollingSeries({ latency: true });
    for (let i = 1; i <= 100; i++) series.add(ok(i * 10, i), T0);
    const { latency_ms, ttfb_ms } = series.summaries(T0).minute;
    // 10…1000 ms uniformly: p50 ≈ 500, p90 ≈ 900, p99 ≈ 990, within a bin's width.
    expect(latency_ms!.p50).toBeGreaterThanOrEqual(400);
    expect(latency_ms!.p50).toBeLessThanOrEqual(600);
    expect(latency_ms!.p90).toBeGreaterThanOrEqual(600);
    expect(latency_ms!.p90).toBeLessThanOrEqual(1000);
    expect(latency_ms!.p99).toBeLessThanOrEqual(1000);
    expect(latency_ms!.mean).toBe(505);
    expect(ttfb_ms!.p50).toBeLessThanOrEqual(75);
  });

  it('gives a per-minute timeline of the last hour, oldest first', () => {
    const series = new RollingSeries({ latency: false });
    series.add(ok(1), T0);
    series.add(ok(1), T0 + 5 * 60_000);
    series.add({ outcome: 'failed', durationMs: 1, ttfbMs: undefined, bytes: 0 }, T0 + 5 * 60_000);
    const timeline = series.timeline(T0 + 5 * 60_000);
    expect(timeline.bucket_seconds).toBe(60);
    expect(timeline.requests).toHaveLength(60);
    expect(timeline.requests.at(-1)).toBe(2);
    expect(timeline.failed.at(-1)).toBe(1);
    expect(timeline.requests.at(-6)).toBe(1);
    expect(timeline.requests.reduce((a, b) => a + b)).toBe(3);
  });

  it('keeps at most `max` series, forgetting the least recently used', () => {
    const map = new SeriesMap(2, false);
    map.add('a', ok(1), T0);
    map.add('b', ok(1), T0);
    map.add('a', ok(1), T0 + 1);
    map.add('c', ok(1), T0 + 2);
    expect(map.size).toBe(2);
    expect(map.entries(T0 + 3).map(([id]) => id)).toEqual(['c', 'a']);
  });
});

describe('RequestStats', () => {
  it('counts overall, per client and per key; a consumer leaving is neither success nor failure', () => {
    let now = T0;
    const stats = new RequestStats(() => now);
    stats.finished(record({}));
    stats.finished(record({ outcome: 'upstream_error', status: 502, clientId: 'cl_b' }));
    stats.finished(record({ outcome: 'consumer_disconnected', keyId: 'key_b' }));
    stats.finished(record({ outcome: 'no_agents_available', clientId: undefined, agentId: undefined }));
    now += 1_000;
    const snap = stats.snapshot();
    expect(snap.overall.minute).toMatchObject({ requests: 4, successful: 1, failed: 2, cancelled: 1 });
    expect(snap.overall.minute.success_rate).toBeCloseTo(1 / 3, 4);
    expect(snap.clients.map((c) => [c.client_id, c.minute.requests])).toEqual([
      ['cl_a', 2],
      ['cl_b', 1],
    ]);
    expect(snap.keys.map((k) => [k.key_id, k.minute.requests])).toEqual([
      ['key_a', 3],
      ['key_b', 1],
    ]);
    expect(snap.generated_at).toBe(new Date(T0 + 1_000).toISOString());
  });

  it("keeps the consumer's own errors apart: an unknown model or a rate limit never pulls success down", () => {
    const now = T0;
    const stats = new RequestStats(() => now);
    for (let i = 0; i < 10; i++) stats.finished(record({}));
    stats.finished(record({ outcome: 'model_not_found', status: 404, clientId: undefined }));
    stats.finished(record({ outcome: 'rate_limit_exceeded', status: 429 }));
    stats.finished(record({ outcome: 'upstream_rejected', status: 413 }));
    const { minute } = stats.snapshot().overall;
    expect(minute).toMatchObject({ requests: 13, successful: 10, failed: 0, consumer_errors: 3 });
    expect(minute.success_rate).toBe(1);
  });
});

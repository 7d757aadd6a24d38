import { describe, expect, it } from 'vitest';
import { requestRecord as record, T0 } from '../test-support/request-record.js';
import { RequestStats } from './request-stats.js';
import { mergeSnapshots } from './stats-merge.js';

describe('mergeSnapshots', () => {
  it('adds the counts, rates and timelines of several relays, per client and per key', () => {
    const now = () => T0 + 30_000;
    const [a, b, both] = [new RequestStats(now), new RequestStats(now), new RequestStats(now)];
    const onA = [record({}), record({ outcome: 'upstream_error', status: 502, bytes: 0 })];
    const onB = [
      record({ keyId: 'key_b', clientId: 'cl_b', durationMs: 1000, ttfbMs: 400 }),
      record({ outcome: 'consumer_disconnected', status: 0 }),
    ];
    for (const [relay, records] of [
      [a, onA],
      [b, onB],
    ] as const) {
      for (const r of records) {
        relay.finished(r);
        both.finished(r);
      }
    }
    const merged = mergeSnapshots([a.snapshot(), b.snapshot()]);
    const single = both.snapshot();
    // Everything but the latency estimates equals one relay having seen all four requests.
    const counts = (w: typeof single.overall.hour) => ({ ...w, latency_ms: null, ttfb_ms: null });
    for (const name of ['minute', 'hour', 'day'] as const) {
      expect(counts(merged.overall[name])).toEqual(counts(single.overall[name]));
    }
    expect(merged.overall.hour).toMatchObject({ requests: 4, successful: 2, failed: 1, cancelled: 1 });
    expect(merged.overall.hour.success_rate).toBe(0.6667);
    expect(merged.overall.timeline).toEqual(single.overall.timeline);
    expect(merged.keys.map((k) => [k.key_id, k.hour.requests]).sort()).toEqual([
      ['key_a', 3],
      ['key_b', 1],
    ]);
    expect(merged.clients.map((c) => [c.client_id, c.hour.requests]).sort()).toEqual([
      ['cl_a', 3],
      ['cl_b', 1],
    ]);
    // The mean is exact (weighted by requests); percentiles are the weighted estimate.
    expect(merged.overall.hour.latency_ms?.mean).toBe(single.overall.hour.latency_ms?.mean);
    expect(merged.overall.hour.latency_ms?.p50).toBeGreaterThan(a.snapshot().overall.hour.latency_ms!.p50);
    expect(merged.generated_at).toBe(a.snapshot().generated_at);
  });

  it('one snapshot merges into itself; a relay with no traffic adds nothing', () => {
    const stats = new RequestStats(() => T0);
    stats.finished(record({}));
    const idle = new RequestStats(() => T0).snapshot();
    expect(mergeSnapshots([stats.snapshot()])).toEqual(stats.snapshot());
    const merged = mergeSnapshots([stats.snapshot(), idle]);
    expect(merged.overall).toEqual(stats.snapshot().overall);
    expect(mergeSnapshots([idle, idle]).overall.hour).toMatchObject({
      requests: 0,
      latency_ms: null,
      success_rate: null,
    });
  });
});

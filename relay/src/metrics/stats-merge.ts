/**
 * Sums the `/api/stats` snapshots of several relays into one cluster figure. Counts, bytes,
 * rates and timelines add up exactly; a mean latency is weighted by requests (exact); the
 * percentiles are the request-weighted mean of the members' percentiles, an estimate (each
 * member's own figures stay exact under `relays` in the answer).
 */
import { successRate } from './figures.js';
import type { StatsSnapshot } from './request-stats.js';
import {
  type Percentiles,
  type Timeline,
  WINDOW_NAMES,
  WINDOWS,
  type WindowName,
  type WindowSummary,
} from './rolling-window.js';

type Windows = Record<WindowName, WindowSummary> & { timeline: Timeline };

function weighted<P extends Partial<Percentiles & { mean: number }>>(
  parts: Array<{ value: P | null; weight: number }>,
): P | null {
  const present = parts.filter((p): p is { value: P; weight: number } => p.value !== null && p.weight > 0);
  const total = present.reduce((sum, p) => sum + p.weight, 0);
  if (total === 0) return null;
  const out: Record<string, number> = {};
  for (const field of Object.keys(present[0]!.value)) {
    const sum = present.reduce((acc, p) => acc + (p.value[field as keyof P] as number) * p.weight, 0);
    out[field] = Math.round(sum / total);
  }
  return out as P;
}

function rounded(rate: number | null): number | null {
  return rate === null ? null : Math.round(rate * 1e4) / 1e4;
}

/** Sums one window's summaries; the rate is recomputed from the total (a sum of rounded rates drifts). */
export function mergeSummaries(list: WindowSummary[], windowSeconds: number): WindowSummary {
  const sum = (pick: (s: WindowSummary) => number) => list.reduce((acc, s) => acc + pick(s), 0);
  const successful = sum((s) => s.successful);
  const failed = sum((s) => s.failed);
  const requests = sum((s) => s.requests);
  return {
    requests,
    successful,
    failed,
    // A relay of an older release (during a rolling restart) does not count them yet.
    consumer_errors: sum((s) => s.consumer_errors ?? 0),
    cancelled: sum((s) => s.cancelled),
    request_rate: Math.round((requests / windowSeconds) * 1e6) / 1e6,
    success_rate: rounded(successRate(successful, failed)),
    bytes: sum((s) => s.bytes),
    latency_ms: weighted(list.map((s) => ({ value: s.latency_ms, weight: s.requests }))),
    ttfb_ms: weighted(list.map((s) => ({ value: s.ttfb_ms, weight: s.requests }))),
  };
}

function mergeTimelines(list: Timeline[]): Timeline {
  const [first] = list;
  const width = first!.requests.length;
  const add = (pick: (t: Timeline) => number[]) =>
    Array.from({ length: width }, (_, i) => list.reduce((acc, t) => acc + (pick(t)[i] ?? 0), 0));
  return { ...first!, requests: add((t) => t.requests), failed: add((t) => t.failed) };
}

function mergeWindows(list: Windows[]): Windows {
  const out = { timeline: mergeTimelines(list.map((w) => w.timeline)) } as Windows;
  for (const name of WINDOW_NAMES) {
    const seconds = (WINDOWS[name].bucketMs * WINDOWS[name].buckets) / 1000;
    out[name] = mergeSummaries(
      list.map((w) => w[name]),
      seconds,
    );
  }
  return out;
}

function mergeById<K extends 'client_id' | 'key_id', R extends Windows & Record<K, string>>(
  field: K,
  lists: R[][],
): R[] {
  const groups = new Map<string, R[]>();
  for (const list of lists)
    for (const row of list) {
      const group = groups.get(row[field]);
      if (group) group.push(row);
      else groups.set(row[field], [row]);
    }
  return [...groups].map(([id, rows]) => ({ [field]: id, ...mergeWindows(rows) }) as R);
}

/** The cluster's snapshot: the first one's time and timeline ends, everyone's counts. */
export function mergeSnapshots(list: StatsSnapshot[]): StatsSnapshot {
  return {
    generated_at: list[0]!.generated_at,
    overall: mergeWindows(list.map((s) => s.overall)),
    clients: mergeById(
      'client_id',
      list.map((s) => s.clients),
    ),
    keys: mergeById(
      'key_id',
      list.map((s) => s.keys),
    ),
  };
}

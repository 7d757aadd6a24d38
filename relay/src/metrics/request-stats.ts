/**
 * `GET /api/stats` figures: an ExchangeObserver that folds every finished request into rolling
 * windows (last minute, hour, day), overall, per bridge client and per API key. In memory and per
 * relay; bounded by the caps below whatever the traffic.
 */
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import {
  RollingSeries,
  type Sample,
  SeriesMap,
  type Timeline,
  type WindowName,
  type WindowSummary,
} from './rolling-window.js';

/** Most clients and keys tracked at once (least recently active forgotten first). */
export const MAX_CLIENT_SERIES = 500;
export const MAX_KEY_SERIES = 2_000;

export type StatsSnapshot = {
  generated_at: string;
  overall: Record<WindowName, WindowSummary> & { timeline: Timeline };
  clients: Array<{ client_id: string } & Record<WindowName, WindowSummary> & { timeline: Timeline }>;
  /** Keys carry counts and rates only (no latency histograms), to stay small. */
  keys: Array<{ key_id: string } & Record<WindowName, WindowSummary> & { timeline: Timeline }>;
};

export class RequestStats implements ExchangeObserver {
  private readonly overall = new RollingSeries({ latency: true });
  private readonly clients = new SeriesMap(MAX_CLIENT_SERIES, true);
  private readonly keys = new SeriesMap(MAX_KEY_SERIES, false);

  constructor(private readonly now: () => number = Date.now) {}

  finished(record: RequestRecord): void {
    const now = this.now();
    const sample: Sample = {
      outcome: record.result,
      durationMs: record.durationMs,
      ttfbMs: record.ttfbMs,
      bytes: record.bytes,
    };
    this.overall.add(sample, now);
    if (record.clientId) this.clients.add(record.clientId, sample, now);
    this.keys.add(record.keyId, sample, now);
  }

  snapshot(): StatsSnapshot {
    const now = this.now();
    return {
      generated_at: new Date(now).toISOString(),
      overall: { ...this.overall.summaries(now), timeline: this.overall.timeline(now) },
      clients: this.clients.entries(now).map(([id, s]) => ({
        client_id: id,
        ...s.summaries(now),
        timeline: s.timeline(now),
      })),
      keys: this.keys.entries(now).map(([id, s]) => ({
        key_id: id,
        ...s.summaries(now),
        timeline: s.timeline(now),
      })),
    };
  }
}

/**
 * Where metered usage is kept: counters per UTC hour × key × client × model, added to as requests
 * end (in batches, see recorder.ts) and read back for the usage API. Two implementations with
 * one behaviour: SQLite beside the embedded store (`<DATA_DIR>/usage.db`) and Redis (shared by
 * every relay on the prefix). The hour is the finest granularity the usage API can answer for.
 */

/** `YYYY-MM-DDTHH` (UTC): sorts as time does. */
export type Hour = string;

export type UsageDims = {
  hour: Hour;
  keyId: string;
  /** '' when no bridge client served the request. */
  clientId: string;
  model: string;
};

export type UsageCounters = {
  requests: number;
  /** Outcome `ok`. */
  succeeded: number;
  /** Consumer left before the end. */
  cancelled: number;
  /** Any other outcome (refused by the bridge, timed out, failed). */
  failed: number;
  promptTokens: number;
  completionTokens: number;
  /** Requests whose token counts are estimates. */
  estimatedRequests: number;
  /** Sum of request durations, ms. */
  durationMs: number;
  /** Sum of times to first byte, ms, over `ttfbCount` requests that had a first byte. */
  ttfbMs: number;
  ttfbCount: number;
};

export type UsageRow = UsageDims & UsageCounters;

export const COUNTER_FIELDS = [
  'requests',
  'succeeded',
  'cancelled',
  'failed',
  'promptTokens',
  'completionTokens',
  'estimatedRequests',
  'durationMs',
  'ttfbMs',
  'ttfbCount',
] as const satisfies ReadonlyArray<keyof UsageCounters>;

/** Filter of a usage read; hours are `[fromHour, toHour)`. */
export type UsageFilter = {
  keyId?: string;
  clientId?: string;
  model?: string;
  fromHour?: Hour;
  toHour?: Hour;
};

export interface UsageStore {
  /** Adds every row's counters to the stored ones, all or nothing. */
  add(rows: UsageRow[]): Promise<void>;
  /** Stored rows matching the filter, in no particular order. */
  query(filter: UsageFilter): Promise<UsageRow[]>;
  close(): Promise<void>;
}

export const HOUR_MS = 3_600_000;

/** The UTC hour `at` falls in. */
export function hourOf(at: Date | number): Hour {
  return new Date(at).toISOString().slice(0, 13);
}

/** Milliseconds since the epoch at the start of `hour`. */
export function hourStart(hour: Hour): number {
  return Date.parse(`${hour}:00:00.000Z`);
}

export function emptyCounters(): UsageCounters {
  return {
    requests: 0,
    succeeded: 0,
    cancelled: 0,
    failed: 0,
    promptTokens: 0,
    completionTokens: 0,
    estimatedRequests: 0,
    durationMs: 0,
    ttfbMs: 0,
    ttfbCount: 0,
  };
}

/** Adds `more` into `into`. */
export function addCounters(into: UsageCounters, more: UsageCounters): void {
  for (const field of COUNTER_FIELDS) into[field] += more[field];
}

/** True when a row matches the filter (for stores that cannot filter on the server). */
export function matches(row: UsageDims, filter: UsageFilter): boolean {
  return (
    (filter.keyId === undefined || row.keyId === filter.keyId) &&
    (filter.clientId === undefined || row.clientId === filter.clientId) &&
    (filter.model === undefined || row.model === filter.model) &&
    (filter.fromHour === undefined || row.hour >= filter.fromHour) &&
    (filter.toHour === undefined || row.hour < filter.toHour)
  );
}

/**
 * The usage API's answer: hourly rows rolled up by the requested dimensions, priced with the
 * price table (per model, per 1 000 tokens; `*` prices every model not listed; unlisted models
 * cost 0), as JSON or as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when they hold
 * a comma, a quote or a line break).
 */
import { toCsv } from '../http/csv.js';
import {
  addCounters,
  emptyCounters,
  type UsageCounters,
  type UsageDims,
  type UsageRow,
} from './usage-store.js';

export const GROUP_BY = ['day', 'key', 'client', 'model'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export type Price = { prompt: number; completion: number };
/** Model → price per 1 000 prompt / completion tokens. */
export type PriceTable = Record<string, Price>;

export type ReportTotals = {
  requests: number;
  succeeded: number;
  cancelled: number;
  failed: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated_requests: number;
  avg_latency_ms: number | null;
  avg_ttfb_ms: number | null;
  cost: number;
};

export type ReportGroup = {
  day?: string;
  key_id?: string;
  key_name?: string | null;
  client_id?: string | null;
  client_name?: string | null;
  model?: string;
} & ReportTotals;

export type UsageReport = { group_by: GroupBy[]; groups: ReportGroup[]; totals: ReportTotals };

export type Names = { keys: ReadonlyMap<string, string>; clients: ReadonlyMap<string, string> };

/** Cost of `tokens` at `price`, exact to 1e-9 (floating-point noise rounded off). */
function costOf(row: UsageCounters, price: Price | undefined): number {
  if (!price) return 0;
  return (row.promptTokens * price.prompt + row.completionTokens * price.completion) / 1000;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

function totals(counters: UsageCounters, cost: number): ReportTotals {
  return {
    requests: counters.requests,
    succeeded: counters.succeeded,
    cancelled: counters.cancelled,
    failed: counters.failed,
    prompt_tokens: counters.promptTokens,
    completion_tokens: counters.completionTokens,
    total_tokens: counters.promptTokens + counters.completionTokens,
    estimated_requests: counters.estimatedRequests,
    avg_latency_ms: counters.requests > 0 ? Math.round(counters.durationMs / counters.requests) : null,
    avg_ttfb_ms: counters.ttfbCount > 0 ? Math.round(counters.ttfbMs / counters.ttfbCount) : null,
    cost: round(cost, 9),
  };
}

function dimsOf(row: UsageDims, groupBy: readonly GroupBy[], names: Names): Partial<ReportGroup> {
  const dims: Partial<ReportGroup> = {};
  for (const dim of groupBy) {
    if (dim === 'day') dims.day = row.hour.slice(0, 10);
    if (dim === 'model') dims.model = row.model;
    if (dim === 'key') {
      dims.key_id = row.keyId;
      dims.key_name = names.keys.get(row.keyId) ?? null;
    }
    if (dim === 'client') {
      dims.client_id = row.clientId || null;
      dims.client_name = row.clientId ? (names.clients.get(row.clientId) ?? null) : null;
    }
  }
  return dims;
}

/** Rolls hourly rows up by `groupBy` (none: one group), priced per model, sorted by the dimensions. */
export function buildReport(
  rows: readonly UsageRow[],
  groupBy: readonly GroupBy[],
  prices: PriceTable,
  names: Names,
): UsageReport {
  const groups = new Map<string, { dims: Partial<ReportGroup>; counters: UsageCounters; cost: number }>();
  const all = emptyCounters();
  let allCost = 0;
  for (const row of rows) {
    const dims = dimsOf(row, groupBy, names);
    const id = JSON.stringify(
      groupBy.map((d) => (d === 'key' ? row.keyId : d === 'client' ? row.clientId : dims[d])),
    );
    let group = groups.get(id);
    if (!group) {
      group = { dims, counters: emptyCounters(), cost: 0 };
      groups.set(id, group);
    }
    const cost = costOf(row, prices[row.model] ?? prices['*']);
    addCounters(group.counters, row);
    group.cost += cost;
    addCounters(all, row);
    allCost += cost;
  }
  const out = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({ ...g.dims, ...totals(g.counters, g.cost) }));
  return { group_by: [...groupBy], groups: out, totals: totals(all, allCost) };
}

const DIM_COLUMNS: Record<GroupBy, Array<keyof ReportGroup>> = {
  day: ['day'],
  key: ['key_id', 'key_name'],
  client: ['client_id', 'client_name'],
  model: ['model'],
};

const METRIC_COLUMNS: Array<keyof ReportTotals> = [
  'requests',
  'succeeded',
  'cancelled',
  'failed',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'estimated_requests',
  'avg_latency_ms',
  'avg_ttfb_ms',
  'cost',
];

/** The report's groups as CSV: a header row, then one row per group. */
export function reportCsv(report: UsageReport): string {
  const columns = [...report.group_by.flatMap((d) => DIM_COLUMNS[d]), ...METRIC_COLUMNS];
  return toCsv(columns, report.groups);
}

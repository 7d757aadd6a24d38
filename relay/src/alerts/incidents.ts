/**
 * Incidents: turns what the relay observes, evaluation after evaluation, into the few messages a
 * person should get — one when a condition has held for its rule's threshold, one when it has been
 * gone for `settleMs` — and nothing while it flaps. A key that recovered does not open again within
 * `quietMs`. Pure: the engine feeds it observations and the time, and persists what it returns, so
 * an incident survives a relay restart (no duplicate, no lost recovery).
 */
import type { Alert, AlertSeverity } from './alert.js';

/** Something wrong right now, as one evaluation sees it. */
export type Condition = {
  /** Stable per thing and rule, e.g. `bridge_not_serving:cl_123`. */
  key: string;
  rule: string;
  severity: AlertSeverity;
  title: string;
  /** Plain words, with the fix when there is one. */
  text: string;
  /** Said when it clears. */
  recoveredTitle: string;
  labels: Record<string, string>;
  /** The bridge client whose owner is told too (their own bridge only). */
  ownerClientId?: string | undefined;
};

export type IncidentRecord = {
  key: string;
  rule: string;
  /** When the condition was first seen in this spell, ms. */
  since: number;
  /** When the incident was announced (absent: not yet, still under its threshold). */
  openedAt?: number | undefined;
  alertId?: string | undefined;
  /** When the condition stopped being seen, while an open incident waits to settle. */
  clearedAt?: number | undefined;
  /** The condition as last seen (for the recovery message). */
  last: Condition;
};

export type IncidentBook = {
  open: Record<string, IncidentRecord>;
  /** Keys that recovered, and when: they do not open again within `quietMs`. */
  recovered: Record<string, number>;
};

export type IncidentTiming = {
  /** How long each rule's condition must hold before it is announced, ms. */
  thresholdMs(rule: string): number;
  /** How long an open incident's condition must be gone before the recovery is sent, ms. */
  settleMs: number;
  /** Least time between a recovery and a new incident of the same key, ms. */
  quietMs: number;
};

export type Announcement = { alert: Alert; ownerClientId?: string | undefined };

export const emptyBook = (): IncidentBook => ({ open: {}, recovered: {} });

/** One evaluation: the new book and what to announce. `newId` names a new incident's alert. */
export function evaluate(
  book: IncidentBook,
  observed: readonly Condition[],
  now: number,
  timing: IncidentTiming,
  newId: () => string,
): { book: IncidentBook; announce: Announcement[] } {
  const open: Record<string, IncidentRecord> = {};
  const recovered: Record<string, number> = {};
  for (const [key, at] of Object.entries(book.recovered)) if (now - at < timing.quietMs) recovered[key] = at;
  const announce: Announcement[] = [];
  const seen = new Set<string>();

  for (const condition of observed) {
    if (seen.has(condition.key)) continue;
    seen.add(condition.key);
    const record: IncidentRecord = {
      ...(book.open[condition.key] ?? { key: condition.key, rule: condition.rule, since: now }),
      last: condition,
      clearedAt: undefined,
    };
    const quiet = recovered[condition.key] !== undefined;
    if (record.openedAt === undefined && !quiet && now - record.since >= timing.thresholdMs(condition.rule)) {
      record.openedAt = now;
      record.alertId = newId();
      announce.push({
        alert: alertOf(record, condition, 'incident', now),
        ownerClientId: condition.ownerClientId,
      });
    }
    open[condition.key] = record;
  }

  for (const record of Object.values(book.open)) {
    if (seen.has(record.key) || record.openedAt === undefined) continue; // unopened ones are forgotten
    const clearedAt = record.clearedAt ?? now;
    if (now - clearedAt >= timing.settleMs) {
      announce.push({
        alert: alertOf(record, record.last, 'recovery', now),
        ownerClientId: record.last.ownerClientId,
      });
      recovered[record.key] = now;
    } else {
      open[record.key] = { ...record, clearedAt };
    }
  }
  return { book: { open, recovered }, announce };
}

function alertOf(
  record: IncidentRecord,
  condition: Condition,
  kind: 'incident' | 'recovery',
  now: number,
): Alert {
  const minutes = Math.max(1, Math.round((now - record.since) / 60_000));
  return {
    id: record.alertId ?? record.key,
    kind,
    rule: condition.rule,
    severity: kind === 'recovery' ? 'info' : condition.severity,
    title: kind === 'recovery' ? condition.recoveredTitle : condition.title,
    text:
      kind === 'recovery' ? `Resolved after about ${minutes} min. Was: ${condition.title}.` : condition.text,
    at: new Date(now).toISOString(),
    labels: condition.labels,
  };
}

/** Reads a stored book; anything that does not look like one is an empty book (the store is read as hostile). */
export function parseBook(text: string | undefined): IncidentBook {
  if (!text) return emptyBook();
  try {
    const value = JSON.parse(text) as Partial<IncidentBook>;
    if (
      !value ||
      typeof value !== 'object' ||
      typeof value.open !== 'object' ||
      typeof value.recovered !== 'object'
    )
      return emptyBook();
    const open: Record<string, IncidentRecord> = {};
    for (const [key, record] of Object.entries(value.open ?? {})) {
      if (
        record &&
        typeof record === 'object' &&
        typeof record.since === 'number' &&
        record.last &&
        record.key === key
      )
        open[key] = record;
    }
    const recovered: Record<string, number> = {};
    for (const [key, at] of Object.entries(value.recovered ?? {}))
      if (typeof at === 'number') recovered[key] = at;
    return { open, recovered };
  } catch {
    return emptyBook();
  }
}

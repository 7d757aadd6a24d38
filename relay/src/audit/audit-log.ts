/**
 * The operator audit log: one entry per admin action (clients registered, changed, disabled,
 * rotated, downloaded; keys created, changed, revoked; settings, update policy and aliases
 * changed; agents drained and kicked), with when, from where, who (a fingerprint, never the
 * token) and what changed (secrets removed). Kept in `<DATA_DIR>/audit.db` on an embedded relay
 * and in Redis, shared by the cluster, otherwise; the newest `AUDIT_MAX_ENTRIES` are kept.
 */
import { z } from 'zod';

/** What one entry may hold; entries read back from Redis are checked against it (hostile until checked). */
export const auditEntry = z.object({
  id: z.string().min(1).max(64),
  /** ISO 8601, UTC. */
  at: z.string().min(1).max(40),
  /** Stable name, e.g. `client.rotate_token` (see audit-actions.ts). */
  action: z.string().min(1).max(64),
  /** The client, key, agent or alias acted on (absent: the collection itself). */
  target: z.string().max(256).nullable(),
  /** `admin_token:<fingerprint>` or `key:<key id>`. */
  actor: z.string().min(1).max(128),
  /** The caller's address (the proxy's X-Forwarded-For entry with TRUST_PROXY). */
  address: z.string().max(128),
  /** The HTTP status the action was answered with: refused actions are recorded too. */
  status: z.number().int().min(100).max(599),
  /** The request's fields, secrets redacted, long values cut; null when it had no body. */
  change: z.record(z.string(), z.unknown()).nullable(),
  /** The relay that took the action. */
  relayId: z.string().max(64),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export type AuditQuery = {
  action?: string | undefined;
  target?: string | undefined;
  actor?: string | undefined;
  /** Inclusive, ms since the epoch. */
  sinceMs?: number | undefined;
  /** Exclusive, ms since the epoch. */
  untilMs?: number | undefined;
  /** Newest first, at most this many. */
  limit: number;
};

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Matching entries, newest first. */
  query(query: AuditQuery): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** Whether `entry` passes the query's filters (the limit aside). */
export function matchesAudit(entry: AuditEntry, query: AuditQuery): boolean {
  const at = Date.parse(entry.at);
  return (
    (query.action === undefined || entry.action === query.action) &&
    (query.target === undefined || entry.target === query.target) &&
    (query.actor === undefined || entry.actor === query.actor) &&
    (query.sinceMs === undefined || at >= query.sinceMs) &&
    (query.untilMs === undefined || at < query.untilMs)
  );
}

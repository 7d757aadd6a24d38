/**
 * A bridge client as the Store keeps it: the record, what creating and patching one take, the
 * outcome of a request it served, a token match and when it is still accepted, and the rule
 * that makes names unique (case-folded) with the error a duplicate raises.
 */

export type ClientStatus = 'pending' | 'active' | 'disabled';

/**
 * Derived from recorded outcomes (see `clientHealth` in client-stats.ts): `unknown` below
 * 5 requests, else the recent success rate ≥ 0.9 `healthy`, ≥ 0.5 `degraded`, below `unhealthy`.
 */
export type ClientHealth = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

/** A client's own limits; `null` means "no limit of this kind". */
export type ClientRateLimit = {
  requests_per_minute: number | null;
  requests_per_day: number | null;
  max_concurrency: number | null;
};

export type ClientRecord = {
  id: string;
  name: string;
  email: string | null;
  /**
   * Where the owner's alerts about this bridge are POSTed (signed with the client's webhook
   * secret, which the store keeps and never puts in a record: `getClientWebhookSecret`).
   */
  webhook_url: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string[];
  rate_limit: ClientRateLimit;
  /** `pending` until the first connection, then `active`; `disabled` refuses connections. */
  status: ClientStatus;
  created_at: string;
  last_seen: string | null;
  metadata: Record<string, unknown>;
  /** Display form of the current token, e.g. "art_Ab3dEf…". */
  token_preview: string;
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  /** Mean duration of every recorded request, milliseconds; null before the first. */
  avg_response_ms: number | null;
  health: ClientHealth;
};

export type NewClient = {
  name: string;
  email: string | null;
  /** Absent: none. A URL comes with the secret its alerts are signed with. */
  webhook_url?: string | null;
  webhook_secret?: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string[];
  rate_limit?: Partial<ClientRateLimit>;
  metadata: Record<string, unknown>;
  tokenHash: string;
  tokenPreview: string;
};

/**
 * PATCH semantics: an absent field is left alone, `null` clears a nullable one. `rate_limit`
 * merges per field; `metadata` and arrays are replaced whole. `status: 'active'` on a client
 * that never connected leaves it `pending` (enabled, waiting for its first connection).
 */
export type ClientPatch = {
  name?: string;
  email?: string | null;
  webhook_url?: string | null;
  webhook_secret?: string | null;
  lmarena_bridge_url?: string | null;
  capabilities?: string[];
  rate_limit?: Partial<ClientRateLimit>;
  status?: 'active' | 'disabled';
  metadata?: Record<string, unknown>;
};

/** One finished request served by a client, for its live stats. */
export type ClientOutcome = { ok: boolean; durationMs: number };

/**
 * A token hash found on a client: its current token (`retiresAt` null), or its previous one,
 * accepted until `retiresAt` (ms epoch) and refused as rotated from then on.
 */
export type ClientTokenMatch = { client: ClientRecord; retiresAt: number | null };

/** True when a match may still connect at `now` (ms epoch). */
export function tokenAccepted(match: ClientTokenMatch, now = Date.now()): boolean {
  return match.retiresAt === null || match.retiresAt > now;
}

/** Thrown by createClient/updateClient when another client already has the name. */
export class DuplicateNameError extends Error {
  constructor(readonly clientName: string) {
    super(`a client named '${clientName}' already exists`);
    this.name = 'DuplicateNameError';
  }
}

/** The form under which client names must be unique: case-insensitive, Unicode-normalised. */
export function clientNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

/**
 * The Store: everything the relay must remember across restarts (bridge clients, API keys,
 * settings). Secrets are passed in and kept only as hashes. Async so that the embedded (SQLite)
 * and the shared (Redis) implementations have one interface; test/store-contract.test.ts runs
 * the same suite against both.
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
  lmarena_bridge_url?: string | null;
  capabilities?: string[];
  rate_limit?: Partial<ClientRateLimit>;
  status?: 'active' | 'disabled';
  metadata?: Record<string, unknown>;
};

/** One finished request served by a client, for its live stats. */
export type ClientOutcome = { ok: boolean; durationMs: number };

/** One scope per consumer route (consumer/route-scopes.ts), and `admin`. */
export const API_KEY_SCOPES = ['chat', 'messages', 'responses', 'models', 'images', 'admin'] as const;
/** `admin` makes the key a scoped admin token (accepted by `/api/*`). */
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * The version of the scope table a stored key's scopes were written under: 1 before the
 * per-route table, when `chat` opened every proxied route (chat, Messages, Responses — images
 * too, by mistake); 2 since. Stores write SCOPE_TABLE with every scopes they write.
 */
export const SCOPE_TABLE = 2;

/**
 * A stored key's scopes. Under table 1, `chat` reads as chat + messages + responses, so keys
 * created before the table keep serving what they served (images excepted: that was the bug).
 */
export function readScopes(stored: string, table: number): ApiKeyScope[] {
  const scopes = JSON.parse(stored) as ApiKeyScope[];
  if (table >= SCOPE_TABLE || !scopes.includes('chat')) return scopes;
  return [...new Set<ApiKeyScope>([...scopes, 'messages', 'responses'])];
}

/** A key's limits; `null` means "no limit of this kind". */
export type ApiKeyLimits = {
  requests_per_minute: number | null;
  requests_per_day: number | null;
  max_concurrency: number | null;
  tokens_per_day: number | null;
};

export type ApiKeyRecord = {
  id: string;
  name: string;
  /** Display form of the key, e.g. "sk-ar-Ab3d…". */
  preview: string;
  scopes: ApiKeyScope[];
  /** Models this key may use; null = all. */
  allowed_models: string[] | null;
  /** ISO time after which the key is refused; null = never. */
  expires_at: string | null;
  limits: ApiKeyLimits;
  created_at: string;
  last_used_at: string | null;
  revoked: boolean;
};

export type NewApiKey = {
  name: string;
  scopes: ApiKeyScope[];
  allowed_models?: string[] | null;
  expires_at?: string | null;
  limits?: Partial<ApiKeyLimits>;
  keyHash: string;
  preview: string;
};

/** PATCH semantics as for clients; `limits` merges per field. */
export type ApiKeyPatch = {
  name?: string;
  scopes?: ApiKeyScope[];
  allowed_models?: string[] | null;
  expires_at?: string | null;
  limits?: Partial<ApiKeyLimits>;
};

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

/** Bridge clients: registration, tokens, connections and their live stats. */
export interface ClientStore {
  /** Throws DuplicateNameError when the name is taken (case-insensitively). */
  createClient(input: NewClient): Promise<ClientRecord>;
  getClient(id: string): Promise<ClientRecord | undefined>;
  /** Every client, oldest first. */
  listClients(): Promise<ClientRecord[]>;
  /**
   * The client whose current token has this hash, or whose previous token has it and is still in
   * its grace period; whatever its status (the caller checks it).
   */
  findClientByTokenHash(tokenHash: string): Promise<ClientRecord | undefined>;
  /** The client holding this token hash, current or previous (grace over or not), and which. */
  findClientToken(tokenHash: string): Promise<ClientTokenMatch | undefined>;
  /** Undefined for an unknown id; throws DuplicateNameError on a rename onto a taken name. */
  updateClient(id: string, patch: ClientPatch): Promise<ClientRecord | undefined>;
  /** False when no client has this id. */
  deleteClient(id: string): Promise<boolean>;
  /**
   * Replaces the token. The old one becomes the previous token, accepted until `graceUntil` (ms
   * epoch; default now, i.e. retired at once) and recognised as rotated after that; a previous
   * token from an earlier rotation is forgotten. Undefined for an unknown id.
   */
  rotateClientToken(
    id: string,
    tokenHash: string,
    tokenPreview: string,
    graceUntil?: number,
  ): Promise<ClientRecord | undefined>;
  /** Records a connection: status pending → active, last_seen = at. Unknown ids are ignored. */
  touchClient(id: string, at: Date): Promise<void>;
  /**
   * Counts one finished request. Buffered in memory and written at most once a second (and
   * before every read and at close), so it is cheap to call per request; unknown ids are ignored.
   */
  recordClientOutcome(id: string, outcome: ClientOutcome): Promise<void>;
}

/** API keys: the consumer's credentials, their scopes, limits and secrets. */
export interface ApiKeyStore {
  createApiKey(input: NewApiKey): Promise<ApiKeyRecord>;
  /** The key with this id, revoked or not. */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first; revoked keys only with `includeRevoked`. */
  listApiKeys(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /**
   * The non-revoked key whose secret has this hash, or whose previous secret (see
   * `regenerateApiKey`) has it within its grace period. Expired keys ARE returned (so that auth can say
   * "expired"); callers must check `expires_at`.
   */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Undefined when no live (non-revoked) key has this id. */
  updateApiKey(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Sets last_used_at; callers throttle it. Unknown ids are ignored. */
  touchApiKey(id: string, at: Date): Promise<void>;
  /**
   * Gives a live key a new secret; the old one stays accepted until `graceUntil` (ms epoch),
   * replacing any previous one. Undefined when no live key has this id.
   */
  regenerateApiKey(
    id: string,
    keyHash: string,
    preview: string,
    graceUntil: number,
  ): Promise<ApiKeyRecord | undefined>;
  /** Revokes a key (its previous secret too); false when no live key has this id. */
  revokeApiKey(id: string): Promise<boolean>;
}

/** Named settings (alias book, pushed client settings, update policy…), one string each. */
export interface SettingStore {
  getSetting(name: string): Promise<string | undefined>;
  setSetting(name: string, value: string): Promise<void>;
  /** Sets the setting unless it exists, atomically; resolves with the value now stored. */
  setSettingIfAbsent(name: string, value: string): Promise<string>;
}

export interface Store extends ClientStore, ApiKeyStore, SettingStore {
  /** Writes buffered stats and releases the file / connection. Idempotent. */
  close(): Promise<void>;
}

/** The form under which client names must be unique: case-insensitive, Unicode-normalised. */
export function clientNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

const NO_CLIENT_LIMITS: ClientRateLimit = {
  requests_per_minute: null,
  requests_per_day: null,
  max_concurrency: null,
};
const NO_KEY_LIMITS: ApiKeyLimits = { ...NO_CLIENT_LIMITS, tokens_per_day: null };

/** Applies a per-field limits patch (absent = keep, null = clear) onto `base`, keeping only known fields. */
function mergeLimits<T extends Record<string, number | null>>(
  empty: T,
  base: Partial<T> | undefined,
  patch: Partial<T> | undefined,
): T {
  const out = { ...empty };
  for (const field of Object.keys(empty) as Array<keyof T>) {
    const next = patch?.[field] !== undefined ? patch[field] : base?.[field];
    out[field] = (next ?? null) as T[keyof T];
  }
  return out;
}

export const mergeClientLimits = (base?: Partial<ClientRateLimit>, patch?: Partial<ClientRateLimit>) =>
  mergeLimits(NO_CLIENT_LIMITS, base, patch);
export const mergeKeyLimits = (base?: Partial<ApiKeyLimits>, patch?: Partial<ApiKeyLimits>) =>
  mergeLimits(NO_KEY_LIMITS, base, patch);

/**
 * An API key as the Store keeps it: its scopes (one per consumer route, and which version of
 * that table a stored key was written under), its limits, the record, and what creating and
 * patching one take. The secret itself is never kept, only its hash.
 */

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

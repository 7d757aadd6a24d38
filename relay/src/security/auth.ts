/**
 * Bearer-token checks for consumers (API keys) and operators (the admin token, or an API key
 * with the `admin` scope). The admin token is not an API key: consumer routes refuse it.
 */
import { truncateChars } from '@arena-relay/shared';
import { RelayError } from '../errors/relay-error.js';
import { hashSecret, secretMatches } from '../store/secrets.js';
import type { ApiKeyRecord, ApiKeyScope, Store } from '../store/store.js';

/** How often one key's `last_used_at` is written at most, milliseconds. */
export const LAST_USED_INTERVAL_MS = 60_000;

/** What a route needs from a key: a scope, and for model routes the model asked for. */
export type KeyRequirement = { scope: ApiKeyScope; model?: string };

/** Who called an admin route. */
export type AdminCaller = { kind: 'admin_token' } | { kind: 'api_key'; key: ApiKeyRecord };

/** The token of an `Authorization: Bearer …` header, if well formed. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The consumer's credential as an `Authorization` header: the header itself, else the
 * `x-api-key` header Anthropic's clients send, as its Bearer equivalent.
 */
export function consumerAuthorization(
  authorization: string | undefined,
  apiKey: string | undefined,
): string | undefined {
  if (authorization !== undefined || apiKey === undefined) return authorization;
  return `Bearer ${apiKey}`;
}

/** True when the key may use `model` (no `allowed_models` list means every model). */
export function modelAllowed(key: ApiKeyRecord, model: string): boolean {
  return key.allowed_models === null || key.allowed_models.includes(model);
}

/** 403 `permission_denied` (param `model`) unless the key may use `model`. */
export function assertModelAllowed(key: ApiKeyRecord, model: string): void {
  if (!modelAllowed(key, model)) {
    throw new RelayError('permission_denied', `This API key is not allowed to use the model '${model}'.`, {
      param: 'model',
    });
  }
}

/**
 * The models of `candidates` (a request's model, aliases and fallbacks expanded) that the key may
 * use, in order: the allow-list applies to the models that would serve, not to an alias's name.
 * 403 when it may use none of them.
 */
export function allowedCandidates(
  key: ApiKeyRecord,
  candidates: readonly string[],
  requested: string,
): string[] {
  const allowed = candidates.filter((model) => modelAllowed(key, model));
  if (allowed.length > 0) return allowed;
  const shown =
    candidates.length === 1 && candidates[0] === requested
      ? `'${requested}'`
      : `'${requested}' (${candidates.join(', ')})`;
  throw new RelayError(
    'permission_denied',
    truncateChars(`This API key is not allowed to use the model ${shown}.`, 512),
    {
      param: 'model',
    },
  );
}

/**
 * The live API key presented. 401 `invalid_api_key` when missing, unknown, revoked or expired
 * (the message says which of the last); 403 `permission_denied` when it lacks `need.scope` or
 * `need.model` is outside its `allowed_models`. Always pass `need`; without it only validity is
 * checked. Records `last_used_at` in the background, at most once a minute per key.
 */
export async function authenticateKey(
  store: Store,
  header: string | undefined,
  need?: KeyRequirement,
): Promise<ApiKeyRecord> {
  const token = bearer(header);
  if (!token) {
    throw new RelayError(
      'invalid_api_key',
      "You didn't provide an API key. Provide it in the Authorization header (Authorization: Bearer YOUR_KEY).",
    );
  }
  const key = await store.findApiKeyByHash(hashSecret(token));
  if (!key) throw new RelayError('invalid_api_key', 'Incorrect API key provided.');
  checkKey(key, need);
  noteUse(store, key.id);
  return key;
}

/**
 * Admits the admin token, or a live key with the `admin` scope. Anything else: 401
 * `invalid_admin_token`, except a known key, which gets the key's own 401 (expired) or 403.
 */
export async function authenticateAdmin(
  store: Store,
  adminTokenHash: string,
  header: string | undefined,
): Promise<AdminCaller> {
  const token = bearer(header);
  if (token && secretMatches(token, adminTokenHash)) return { kind: 'admin_token' };
  const key = token ? await store.findApiKeyByHash(hashSecret(token)) : undefined;
  if (!key) {
    throw new RelayError(
      'invalid_admin_token',
      'admin token required (Authorization: Bearer <admin token or API key with the admin scope>)',
    );
  }
  checkKey(key, { scope: 'admin' });
  noteUse(store, key.id);
  return { kind: 'api_key', key };
}

function checkKey(key: ApiKeyRecord, need: KeyRequirement | undefined): void {
  if (key.expires_at !== null && Date.parse(key.expires_at) <= Date.now()) {
    throw new RelayError('invalid_api_key', `API key expired at ${key.expires_at}.`);
  }
  if (!need) return;
  if (!key.scopes.includes(need.scope)) {
    throw new RelayError('permission_denied', `This API key does not have the '${need.scope}' scope.`);
  }
  if (need.model !== undefined) assertModelAllowed(key, need.model);
}

/** Per store: key id → when its last_used_at was last written (ms). Bounded by the number of keys. */
const lastWritten = new WeakMap<Store, Map<string, number>>();

/** Writes last_used_at at most once per LAST_USED_INTERVAL_MS per key, never on the request path. */
function noteUse(store: Store, keyId: string): void {
  let written = lastWritten.get(store);
  if (!written) {
    written = new Map();
    lastWritten.set(store, written);
  }
  const now = Date.now();
  const last = written.get(keyId);
  if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
  written.set(keyId, now);
  // last_used_at is advisory: a store hiccup must not fail the request. Forget the write so the
  // next request tries again.
  store.touchApiKey(keyId, new Date(now)).catch(() => written.delete(keyId));
}

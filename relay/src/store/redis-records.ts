/**
 * How the Redis Store lays its records out: the key names under the prefix, a client's or API
 * key's hash decoded into its record, and a create or patch turned into field changes (a missing
 * field reads as null, so a null in a patch deletes the field). Every key starts with the
 * configured prefix (REDIS_PREFIX, default `arena:`):
 *
 *   <p>client:<id>          hash, one client (missing field = null; rate limits as `rl:<name>`)
 *   <p>clients              zset of client ids, scored by creation sequence
 *   <p>idx:client_token     hash token hash → client id (current and previous tokens)
 *   <p>idx:client_name      hash case-folded name → client id (names are unique)
 *   <p>key:<id>             hash, one API key (limits as `lim:<name>`; no `scope_table` = table 1)
 *   <p>keys                 zset of key ids, scored by creation sequence
 *   <p>idx:key_hash         hash key hash → key id (live keys, current and previous secrets)
 *   <p>settings             hash name → value
 *   <p>seq                  counter giving the zsets their creation order
 */

import { publicStats } from './client-stats.js';
import {
  type ApiKeyRecord,
  type ClientRecord,
  type ClientStatus,
  mergeClientLimits,
  mergeKeyLimits,
  readScopes,
} from './store.js';

/** The store's key names under prefix `p`. */
export function redisKeys(p: string) {
  return {
    client: (id: string) => `${p}client:${id}`,
    clients: `${p}clients`,
    clientToken: `${p}idx:client_token`,
    clientName: `${p}idx:client_name`,
    key: (id: string) => `${p}key:${id}`,
    keys: `${p}keys`,
    keyHash: `${p}idx:key_hash`,
    settings: `${p}settings`,
    seq: `${p}seq`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

export type Hash = Record<string, string>;
type FieldChanges = { set: Array<[string, string]>; del: string[] };

const CLIENT_LIMITS = ['requests_per_minute', 'requests_per_day', 'max_concurrency'] as const;
const KEY_LIMITS = [...CLIENT_LIMITS, 'tokens_per_day'] as const;

const nullable = (h: Hash, field: string): string | null => h[field] ?? null;
const numberOrNull = (value: string | undefined): number | null =>
  value === undefined ? null : Number(value);

/** The limits stored as `<prefix><name>` fields (a missing field = null, no limit). */
function readLimits<N extends string>(
  h: Hash,
  prefix: string,
  names: readonly N[],
): Record<N, number | null> {
  const limits = {} as Record<N, number | null>;
  for (const name of names) limits[name] = numberOrNull(h[`${prefix}${name}`]);
  return limits;
}

export function decodeClient(h: Hash): ClientRecord {
  return {
    id: h.id!,
    name: h.name!,
    email: nullable(h, 'email'),
    webhook_url: nullable(h, 'webhook_url'),
    lmarena_bridge_url: nullable(h, 'lmarena_bridge_url'),
    capabilities: JSON.parse(h.capabilities ?? '[]') as string[],
    rate_limit: mergeClientLimits(readLimits(h, 'rl:', CLIENT_LIMITS)),
    status: h.status as ClientStatus,
    created_at: h.created_at!,
    last_seen: nullable(h, 'last_seen'),
    metadata: JSON.parse(h.metadata ?? '{}') as Record<string, unknown>,
    token_preview: h.token_preview!,
    ...publicStats({
      total_requests: Number(h.total_requests ?? 0),
      successful_requests: Number(h.successful_requests ?? 0),
      failed_requests: Number(h.failed_requests ?? 0),
      response_ms_total: Number(h.response_ms_total ?? 0),
      recent_success: Number(h.recent_success ?? 0),
    }),
  };
}

export function decodeKey(h: Hash): ApiKeyRecord {
  return {
    id: h.id!,
    name: h.name!,
    preview: h.preview!,
    scopes: readScopes(h.scopes ?? '[]', Number(h.scope_table ?? 1)),
    allowed_models: h.allowed_models === undefined ? null : (JSON.parse(h.allowed_models) as string[]),
    expires_at: nullable(h, 'expires_at'),
    limits: mergeKeyLimits(readLimits(h, 'lim:', KEY_LIMITS)),
    created_at: h.created_at!,
    last_used_at: nullable(h, 'last_used_at'),
    revoked: h.revoked_at !== undefined,
  };
}

/** Field changes for a patch: undefined leaves a field, null removes it. */
export function changes(
  values: Record<string, string | null | undefined>,
  limitPrefix: string,
  limits: Partial<Record<string, number | null>> | undefined,
): FieldChanges {
  const out: FieldChanges = { set: [], del: [] };
  const put = (field: string, value: string | null | undefined) => {
    if (value === null) out.del.push(field);
    else if (value !== undefined) out.set.push([field, value]);
  };
  for (const [field, value] of Object.entries(values)) put(field, value);
  for (const [name, value] of Object.entries(limits ?? {})) {
    if (value !== undefined) put(`${limitPrefix}${name}`, value === null ? null : String(value));
  }
  return out;
}

export const json = (value: unknown): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);
export const flat = (c: FieldChanges): string[] => [String(c.set.length), ...c.set.flat(), ...c.del];

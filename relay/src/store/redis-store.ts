/**
 * The shared Store on Redis (ioredis), for several relays behind one address. Every key starts
 * with the configured prefix (REDIS_PREFIX, default `arena:`):
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
 *
 * Multi-key changes are Lua scripts (redis-scripts.ts), atomic on the server. Commands time
 * out after 2 s and are retried once, so a Redis outage fails requests quickly instead of
 * hanging them. Registrations, keys and settings wait for the replicas the endpoint asks for
 * before they are acknowledged (see RedisConnections.confirm); counters and touches do not.
 */

import { closeAfterOutcomes, OutcomeBuffer, publicStats } from './client-stats.js';
import { closeRedis, connectOrThrow, type RedisConnections } from './redis-connection.js';
import type { RedisScript } from './redis-script.js';
import {
  ADD_OUTCOMES,
  CREATE_RECORD,
  DELETE_CLIENT,
  REGENERATE_KEY,
  REVOKE_KEY,
  ROTATE_TOKEN,
  TOUCH_CLIENT,
  TOUCH_KEY,
  UPDATE_CLIENT,
  UPDATE_KEY,
} from './redis-scripts.js';
import { generateId } from './secrets.js';
import {
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ClientPatch,
  type ClientRecord,
  type ClientStatus,
  type ClientTokenMatch,
  clientNameKey,
  DuplicateNameError,
  mergeClientLimits,
  mergeKeyLimits,
  readScopes,
  SCOPE_TABLE,
  type Store,
  tokenAccepted,
} from './store.js';

export type RedisStoreOptions = {
  /** The relay's Redis connection factory (single node or Sentinel). */
  redis: RedisConnections;
  /** Prepended to every key; default `arena:`. */
  prefix?: string;
};

type Hash = Record<string, string>;
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

function decodeClient(h: Hash): ClientRecord {
  return {
    id: h.id!,
    name: h.name!,
    email: nullable(h, 'email'),
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

function decodeKey(h: Hash): ApiKeyRecord {
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
function changes(
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

const json = (value: unknown): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);
const flat = (c: FieldChanges): string[] => [String(c.set.length), ...c.set.flat(), ...c.del];

/** Connects to Redis (failing fast when it is unreachable) and returns the Store on it. */
export async function openRedisStore(options: RedisStoreOptions): Promise<Store> {
  const p = options.prefix ?? 'arena:';
  const k = {
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
  const connections = options.redis;
  const redis = connections.create('store');
  await connectOrThrow(redis, connections);

  // Every store script answers an integer (redis-scripts.ts).
  const run = async (s: RedisScript, keys: string[], args: Array<string | number>) =>
    (await s(redis, keys, args)) as number;
  /** A change an operator was told happened: it must survive a fail-over. */
  const durable = async <T>(write: Promise<T>): Promise<T> => {
    const result = await write;
    await connections.confirm(redis);
    return result;
  };
  const runDurable = (s: RedisScript, keys: string[], args: Array<string | number>) =>
    durable(run(s, keys, args));

  const readHash = async (key: string): Promise<Hash | undefined> => {
    const h = await redis.hgetall(key);
    return h.id === undefined ? undefined : h;
  };
  const readAll = async (ids: string[], keyOf: (id: string) => string): Promise<Hash[]> => {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keyOf(id));
    const results = (await pipeline.exec()) ?? [];
    const hashes: Hash[] = [];
    for (const [error, h] of results) {
      if (error) throw error;
      // A record deleted between ZRANGE and HGETALL reads as an empty hash: skip it.
      if ((h as Hash).id !== undefined) hashes.push(h as Hash);
    }
    return hashes;
  };
  const findClientToken = async (tokenHash: string): Promise<ClientTokenMatch | undefined> => {
    const id = await redis.hget(k.clientToken, tokenHash);
    if (!id) return undefined;
    const h = await readHash(k.client(id));
    // Rotated again between the two reads: the token is neither current nor previous.
    if (h?.token_hash === tokenHash) return { client: decodeClient(h), retiresAt: null };
    if (h?.prev_token_hash === tokenHash) {
      return { client: decodeClient(h), retiresAt: Number(h.prev_token_until ?? 0) };
    }
    return undefined;
  };
  const getClient = async (id: string) => {
    const h = await readHash(k.client(id));
    return h && decodeClient(h);
  };

  const outcomes = new OutcomeBuffer(async (batch) => {
    await Promise.all(
      [...batch].map(([id, d]) =>
        run(
          ADD_OUTCOMES,
          [k.client(id)],
          [d.total, d.ok, d.failed, String(d.msSum), String(d.decay), String(d.add)],
        ),
      ),
    );
  });

  return {
    async createClient(input) {
      const id = generateId('cl');
      const now = new Date();
      const nameKey = clientNameKey(input.name);
      const fields = changes(
        {
          id,
          name: input.name,
          name_key: nameKey,
          email: input.email,
          lmarena_bridge_url: input.lmarena_bridge_url,
          capabilities: JSON.stringify(input.capabilities),
          status: 'pending',
          created_at: now.toISOString(),
          metadata: JSON.stringify(input.metadata),
          token_hash: input.tokenHash,
          token_preview: input.tokenPreview,
          total_requests: '0',
          successful_requests: '0',
          failed_requests: '0',
          response_ms_total: '0',
          recent_success: '0',
        },
        'rl:',
        input.rate_limit,
      );
      const done = await runDurable(
        CREATE_RECORD,
        [k.client(id), k.clients, k.seq, k.clientName, k.clientToken],
        [id, nameKey, input.tokenHash, ...fields.set.flat()],
      );
      if (done === -1) throw new DuplicateNameError(input.name);
      if (done !== 1) throw new Error('client token hash already in use');
      return (await getClient(id))!;
    },
    async getClient(id) {
      await outcomes.flush();
      return getClient(id);
    },
    async listClients() {
      await outcomes.flush();
      return (await readAll(await redis.zrange(k.clients, 0, -1), k.client)).map(decodeClient);
    },
    async findClientByTokenHash(tokenHash) {
      await outcomes.flush();
      const match = await findClientToken(tokenHash);
      return match && tokenAccepted(match) ? match.client : undefined;
    },
    async findClientToken(tokenHash) {
      await outcomes.flush();
      return findClientToken(tokenHash);
    },
    async updateClient(id, patch: ClientPatch) {
      await outcomes.flush();
      const fields = changes(
        {
          name: patch.name,
          email: patch.email,
          lmarena_bridge_url: patch.lmarena_bridge_url,
          capabilities: json(patch.capabilities),
          metadata: json(patch.metadata),
        },
        'rl:',
        patch.rate_limit,
      );
      const nameKey = patch.name === undefined ? '' : clientNameKey(patch.name);
      const done = await runDurable(
        UPDATE_CLIENT,
        [k.client(id), k.clientName],
        [id, nameKey, patch.status ?? '', ...flat(fields)],
      );
      if (done === -1) throw new DuplicateNameError(patch.name!);
      return done === 1 ? getClient(id) : undefined;
    },
    async deleteClient(id) {
      return (
        (await runDurable(DELETE_CLIENT, [k.client(id), k.clientName, k.clientToken, k.clients], [id])) === 1
      );
    },
    async rotateClientToken(id, tokenHash, tokenPreview, graceUntil = Date.now()) {
      await outcomes.flush();
      const done = await runDurable(
        ROTATE_TOKEN,
        [k.client(id), k.clientToken],
        [
          id,
          tokenHash,
          'token_hash',
          'prev_token_hash',
          'prev_token_until',
          'token_preview',
          tokenPreview,
          graceUntil,
        ],
      );
      if (done === -1) throw new Error('client token hash already in use');
      return done === 1 ? getClient(id) : undefined;
    },
    async touchClient(id, at) {
      await run(TOUCH_CLIENT, [k.client(id)], [at.toISOString()]);
    },
    async recordClientOutcome(id, outcome) {
      outcomes.add(id, outcome);
    },
    async createApiKey(input) {
      const id = generateId('key');
      const now = new Date();
      const fields = changes(
        {
          id,
          name: input.name,
          preview: input.preview,
          key_hash: input.keyHash,
          scopes: JSON.stringify(input.scopes),
          scope_table: String(SCOPE_TABLE),
          allowed_models: input.allowed_models ? JSON.stringify(input.allowed_models) : undefined,
          expires_at: input.expires_at ?? undefined,
          created_at: now.toISOString(),
        },
        'lim:',
        input.limits,
      );
      const done = await runDurable(
        CREATE_RECORD,
        [k.key(id), k.keys, k.seq, k.keyHash],
        [id, input.keyHash, ...fields.set.flat()],
      );
      if (done !== 1) throw new Error('API key hash already in use');
      return decodeKey((await readHash(k.key(id)))!);
    },
    async getApiKey(id) {
      const h = await readHash(k.key(id));
      return h && decodeKey(h);
    },
    async listApiKeys(options = {}) {
      const keys = (await readAll(await redis.zrange(k.keys, 0, -1), k.key)).map(decodeKey);
      return options.includeRevoked ? keys : keys.filter((key) => !key.revoked);
    },
    async findApiKeyByHash(keyHash) {
      const id = await redis.hget(k.keyHash, keyHash);
      if (!id) return undefined;
      const h = await readHash(k.key(id));
      if (!h || h.revoked_at !== undefined) return undefined;
      const current = h.key_hash === keyHash;
      const inGrace = h.prev_key_hash === keyHash && Number(h.prev_key_until ?? 0) > Date.now();
      return current || inGrace ? decodeKey(h) : undefined;
    },
    async regenerateApiKey(id, keyHash, preview, graceUntil) {
      const done = await runDurable(
        REGENERATE_KEY,
        [k.key(id), k.keyHash],
        [id, keyHash, 'key_hash', 'prev_key_hash', 'prev_key_until', 'preview', preview, graceUntil],
      );
      if (done === -1) throw new Error('API key hash already in use');
      if (done !== 1) return undefined;
      const h = await readHash(k.key(id));
      return h && decodeKey(h);
    },
    async updateApiKey(id, patch: ApiKeyPatch) {
      const fields = changes(
        {
          name: patch.name,
          scopes: json(patch.scopes),
          scope_table: patch.scopes ? String(SCOPE_TABLE) : undefined,
          allowed_models: patch.allowed_models === null ? null : json(patch.allowed_models),
          expires_at: patch.expires_at,
        },
        'lim:',
        patch.limits,
      );
      if ((await runDurable(UPDATE_KEY, [k.key(id)], flat(fields))) !== 1) return undefined;
      const h = await readHash(k.key(id));
      return h && decodeKey(h);
    },
    async touchApiKey(id, at) {
      await run(TOUCH_KEY, [k.key(id)], [at.toISOString()]);
    },
    async revokeApiKey(id) {
      return (await runDurable(REVOKE_KEY, [k.key(id), k.keyHash], [id, new Date().toISOString()])) === 1;
    },
    async getSetting(name) {
      return (await redis.hget(k.settings, name)) ?? undefined;
    },
    async setSetting(name, value) {
      await durable(redis.hset(k.settings, name, value));
    },
    async setSettingIfAbsent(name, value) {
      await durable(redis.hsetnx(k.settings, name, value));
      // Settings are never deleted, so the value read back is the one that won.
      return (await redis.hget(k.settings, name)) ?? value;
    },
    close: closeAfterOutcomes(outcomes, () => closeRedis(redis)),
  };
}

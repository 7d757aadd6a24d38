/**
 * The Redis Store's API keys: creation, lookups by id and by secret hash (current, or previous
 * within its grace period), regeneration, patches, touches and revocation. Every change but a
 * touch is durable (redis-access.ts).
 */
import type { RedisAccess } from './redis-access.js';
import { changes, decodeKey, flat, json, type RedisKeys } from './redis-records.js';
import { CREATE_RECORD, REGENERATE_KEY, REVOKE_KEY, TOUCH_KEY, UPDATE_KEY } from './redis-scripts.js';
import { generateId } from './secrets.js';
import { type ApiKeyPatch, type ApiKeyStore, SCOPE_TABLE } from './store.js';

/** The API key half of the Store on `k`. */
export function redisApiKeyStore(
  { redis, run, runDurable, readHash, readAll }: RedisAccess,
  k: RedisKeys,
): ApiKeyStore {
  return {
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
  };
}

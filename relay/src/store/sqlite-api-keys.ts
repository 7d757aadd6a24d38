/**
 * The embedded Store's API keys: their rows, creation, lookups by id and by secret hash (current,
 * or previous within its grace period), regeneration, patches (one IMMEDIATE transaction, as
 * they read before they write), touches and revocation.
 */
import type Database from 'better-sqlite3';
import { generateId } from './secrets.js';
import {
  type ApiKeyLimits,
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ApiKeyStore,
  mergeKeyLimits,
  type NewApiKey,
  readScopes,
  SCOPE_TABLE,
} from './store.js';

type KeyRow = {
  id: string;
  name: string;
  preview: string;
  scopes: string;
  allowed_models: string | null;
  expires_at: string | null;
  limits: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  scope_table: number;
};

const keyColumns =
  'id, name, preview, scopes, allowed_models, expires_at, limits, created_at, last_used_at, revoked_at, scope_table';

const toKey = (row: KeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  preview: row.preview,
  scopes: readScopes(row.scopes, row.scope_table),
  allowed_models: row.allowed_models === null ? null : (JSON.parse(row.allowed_models) as string[]),
  expires_at: row.expires_at,
  limits: mergeKeyLimits(JSON.parse(row.limits) as Partial<ApiKeyLimits>),
  created_at: row.created_at,
  last_used_at: row.last_used_at,
  revoked: row.revoked_at !== null,
});

/** The API key half of the Store on `db`. */
export function sqliteApiKeyStore(db: Database.Database): ApiKeyStore {
  const q = {
    insertKey: db.prepare(
      `INSERT INTO api_keys (id, name, preview, key_hash, scopes, allowed_models, expires_at, limits, created_at,
         scope_table)
       VALUES (@id, @name, @preview, @key_hash, @scopes, @allowed_models, @expires_at, @limits, @created_at,
         ${SCOPE_TABLE})`,
    ),
    listLiveKeys: db.prepare<[], KeyRow>(
      `SELECT ${keyColumns} FROM api_keys WHERE revoked_at IS NULL ORDER BY rowid`,
    ),
    listAllKeys: db.prepare<[], KeyRow>(`SELECT ${keyColumns} FROM api_keys ORDER BY rowid`),
    keyById: db.prepare<[string], KeyRow>(`SELECT ${keyColumns} FROM api_keys WHERE id = ?`),
    keyByHash: db.prepare<{ hash: string; now: number }, KeyRow>(
      `SELECT ${keyColumns} FROM api_keys
       WHERE (key_hash = @hash OR (prev_key_hash = @hash AND prev_key_until > @now)) AND revoked_at IS NULL`,
    ),
    regenerateKey: db.prepare(
      `UPDATE api_keys SET prev_key_hash = key_hash, prev_key_until = @until, key_hash = @hash,
         preview = @preview
       WHERE id = @id AND revoked_at IS NULL`,
    ),
    updateKey: db.prepare(
      `UPDATE api_keys SET name = @name, scopes = @scopes, allowed_models = @allowed_models,
         expires_at = @expires_at, limits = @limits, scope_table = @scope_table
       WHERE id = @id`,
    ),
    touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    revokeKey: db.prepare(
      'UPDATE api_keys SET revoked_at = ?, prev_key_hash = NULL WHERE id = ? AND revoked_at IS NULL',
    ),
  };

  const updateKey = db.transaction((id: string, patch: ApiKeyPatch): ApiKeyRecord | undefined => {
    const row = q.keyById.get(id);
    if (!row || row.revoked_at !== null) return undefined;
    q.updateKey.run({
      id,
      name: patch.name ?? row.name,
      scopes: patch.scopes ? JSON.stringify(patch.scopes) : row.scopes,
      scope_table: patch.scopes ? SCOPE_TABLE : row.scope_table,
      allowed_models:
        patch.allowed_models === undefined
          ? row.allowed_models
          : patch.allowed_models && JSON.stringify(patch.allowed_models),
      expires_at: patch.expires_at !== undefined ? patch.expires_at : row.expires_at,
      limits: JSON.stringify(mergeKeyLimits(JSON.parse(row.limits) as Partial<ApiKeyLimits>, patch.limits)),
    });
    return toKey(q.keyById.get(id)!);
  });

  return {
    async createApiKey(input: NewApiKey) {
      const id = generateId('key');
      q.insertKey.run({
        id,
        name: input.name,
        preview: input.preview,
        key_hash: input.keyHash,
        scopes: JSON.stringify(input.scopes),
        allowed_models: input.allowed_models ? JSON.stringify(input.allowed_models) : null,
        expires_at: input.expires_at ?? null,
        limits: JSON.stringify(mergeKeyLimits(input.limits)),
        created_at: new Date().toISOString(),
      });
      return toKey(q.keyById.get(id)!);
    },
    async getApiKey(id) {
      const row = q.keyById.get(id);
      return row && toKey(row);
    },
    async listApiKeys(options = {}) {
      return (options.includeRevoked ? q.listAllKeys : q.listLiveKeys).all().map(toKey);
    },
    async findApiKeyByHash(keyHash) {
      const row = q.keyByHash.get({ hash: keyHash, now: Date.now() });
      return row && toKey(row);
    },
    async regenerateApiKey(id, keyHash, preview, graceUntil) {
      if (q.regenerateKey.run({ id, hash: keyHash, preview, until: graceUntil }).changes === 0)
        return undefined;
      return toKey(q.keyById.get(id)!);
    },
    async updateApiKey(id, patch) {
      return updateKey.immediate(id, patch);
    },
    async touchApiKey(id, at) {
      q.touchKey.run(at.toISOString(), id);
    },
    async revokeApiKey(id) {
      return q.revokeKey.run(new Date().toISOString(), id).changes > 0;
    },
  };
}

/**
 * The embedded Store: SQLite (better-sqlite3) in DATA_DIR. WAL with synchronous=FULL, so a
 * write acknowledged to an HTTP caller survives kill -9 and power loss alike. Every change that
 * reads before it writes runs in one IMMEDIATE transaction; client names are unique through a
 * UNIQUE index on their case-folded form, so a duplicate can never slip in between check and insert.
 */
import Database from 'better-sqlite3';
import {
  closeAfterOutcomes,
  OutcomeBuffer,
  type OutcomeDelta,
  publicStats,
  type StatsColumns,
} from './client-stats.js';
import { generateId } from './secrets.js';
import { openSqliteFile } from './sqlite-file.js';
import { migrate } from './sqlite-schema.js';
import {
  type ApiKeyLimits,
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ClientPatch,
  type ClientRateLimit,
  type ClientRecord,
  type ClientStatus,
  type ClientTokenMatch,
  clientNameKey,
  DuplicateNameError,
  mergeClientLimits,
  mergeKeyLimits,
  type NewApiKey,
  type NewClient,
  readScopes,
  SCOPE_TABLE,
  type Store,
  tokenAccepted,
} from './store.js';

type ClientRow = StatsColumns & {
  id: string;
  name: string;
  name_key: string | null;
  email: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string;
  rate_limit: string;
  status: ClientStatus;
  created_at: string;
  last_seen: string | null;
  metadata: string;
  token_preview: string;
};

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

const clientColumns = `id, name, name_key, email, lmarena_bridge_url, capabilities, rate_limit, status, created_at,
  last_seen, metadata, token_preview, total_requests, successful_requests, failed_requests, response_ms_total,
  recent_success`;
const keyColumns =
  'id, name, preview, scopes, allowed_models, expires_at, limits, created_at, last_used_at, revoked_at, scope_table';

const toClient = (row: ClientRow): ClientRecord => ({
  id: row.id,
  name: row.name,
  email: row.email,
  lmarena_bridge_url: row.lmarena_bridge_url,
  capabilities: JSON.parse(row.capabilities) as string[],
  rate_limit: mergeClientLimits(JSON.parse(row.rate_limit) as Partial<ClientRateLimit>),
  status: row.status,
  created_at: row.created_at,
  last_seen: row.last_seen,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  token_preview: row.token_preview,
  ...publicStats(row),
});

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

/** Runs `write`, turning a UNIQUE violation of the name index into DuplicateNameError. */
function uniqueName<T>(name: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof Database.SqliteError && /clients\.name_key/.test(error.message)) {
      throw new DuplicateNameError(name);
    }
    throw error;
  }
}

/** Opens (creating or migrating if needed) the store at `<dataDir>/relay.db`; `':memory:'` for a throwaway one. */
export function openSqliteStore(dataDir: string): Store {
  const db = openSqliteFile(dataDir, 'relay.db', 'FULL');
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const q = {
    insertClient: db.prepare(
      `INSERT INTO clients (id, name, name_key, email, lmarena_bridge_url, capabilities, rate_limit, status,
         created_at, metadata, token_hash, token_preview)
       VALUES (@id, @name, @name_key, @email, @lmarena_bridge_url, @capabilities, @rate_limit, 'pending',
         @created_at, @metadata, @token_hash, @token_preview)`,
    ),
    getClient: db.prepare<[string], ClientRow>(`SELECT ${clientColumns} FROM clients WHERE id = ?`),
    listClients: db.prepare<[], ClientRow>(`SELECT ${clientColumns} FROM clients ORDER BY rowid`),
    clientByToken: db.prepare<[string], ClientRow>(
      `SELECT ${clientColumns} FROM clients WHERE token_hash = ?`,
    ),
    clientByPrevToken: db.prepare<[string], ClientRow & { prev_token_until: number }>(
      `SELECT ${clientColumns}, prev_token_until FROM clients WHERE prev_token_hash = ?`,
    ),
    updateClient: db.prepare(
      `UPDATE clients SET name = @name, name_key = @name_key, email = @email,
         lmarena_bridge_url = @lmarena_bridge_url, capabilities = @capabilities, rate_limit = @rate_limit,
         status = @status, metadata = @metadata
       WHERE id = @id`,
    ),
    deleteClient: db.prepare('DELETE FROM clients WHERE id = ?'),
    rotateToken: db.prepare(
      `UPDATE clients SET prev_token_hash = token_hash, prev_token_until = @until, token_hash = @hash,
         token_preview = @preview
       WHERE id = @id`,
    ),
    touchClient: db.prepare(
      `UPDATE clients SET last_seen = @at, status = CASE status WHEN 'pending' THEN 'active' ELSE status END
       WHERE id = @id`,
    ),
    addOutcomes: db.prepare(
      `UPDATE clients SET total_requests = total_requests + @total,
         successful_requests = successful_requests + @ok, failed_requests = failed_requests + @failed,
         response_ms_total = response_ms_total + @msSum, recent_success = recent_success * @decay + @add
       WHERE id = @id`,
    ),
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
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
    setSetting: db.prepare(
      'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    ),
    initSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
  };

  const getClient = (id: string) => {
    const row = q.getClient.get(id);
    return row && toClient(row);
  };

  const updateClient = db.transaction((id: string, patch: ClientPatch): ClientRecord | undefined => {
    const row = q.getClient.get(id);
    if (!row) return undefined;
    let status: ClientStatus = patch.status ?? row.status;
    if (status === 'active' && row.last_seen === null) status = 'pending';
    const name = patch.name ?? row.name;
    uniqueName(name, () =>
      q.updateClient.run({
        id,
        name,
        name_key: patch.name === undefined ? row.name_key : clientNameKey(patch.name),
        email: patch.email !== undefined ? patch.email : row.email,
        lmarena_bridge_url:
          patch.lmarena_bridge_url !== undefined ? patch.lmarena_bridge_url : row.lmarena_bridge_url,
        capabilities: patch.capabilities ? JSON.stringify(patch.capabilities) : row.capabilities,
        rate_limit: JSON.stringify(
          mergeClientLimits(JSON.parse(row.rate_limit) as Partial<ClientRateLimit>, patch.rate_limit),
        ),
        status,
        metadata: patch.metadata ? JSON.stringify(patch.metadata) : row.metadata,
      }),
    );
    return getClient(id);
  });

  const rotateToken = db.transaction((id: string, hash: string, preview: string, until: number) =>
    q.rotateToken.run({ id, hash, preview, until }).changes > 0 ? getClient(id) : undefined,
  );
  const findClientToken = (tokenHash: string): ClientTokenMatch | undefined => {
    const row = q.clientByToken.get(tokenHash);
    if (row) return { client: toClient(row), retiresAt: null };
    const prev = q.clientByPrevToken.get(tokenHash);
    return prev && { client: toClient(prev), retiresAt: prev.prev_token_until };
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

  const applyOutcomes = db.transaction((batch: Map<string, OutcomeDelta>) => {
    for (const [id, delta] of batch) q.addOutcomes.run({ id, ...delta });
  });
  const outcomes = new OutcomeBuffer((batch) => applyOutcomes(batch));

  return {
    async createClient(input: NewClient) {
      const id = generateId('cl');
      uniqueName(input.name, () =>
        q.insertClient.run({
          id,
          name: input.name,
          name_key: clientNameKey(input.name),
          email: input.email,
          lmarena_bridge_url: input.lmarena_bridge_url,
          capabilities: JSON.stringify(input.capabilities),
          rate_limit: JSON.stringify(mergeClientLimits(input.rate_limit)),
          created_at: new Date().toISOString(),
          metadata: JSON.stringify(input.metadata),
          token_hash: input.tokenHash,
          token_preview: input.tokenPreview,
        }),
      );
      return getClient(id)!;
    },
    async getClient(id) {
      await outcomes.flush();
      return getClient(id);
    },
    async listClients() {
      await outcomes.flush();
      return q.listClients.all().map(toClient);
    },
    async findClientByTokenHash(tokenHash) {
      await outcomes.flush();
      const match = findClientToken(tokenHash);
      return match && tokenAccepted(match) ? match.client : undefined;
    },
    async findClientToken(tokenHash) {
      await outcomes.flush();
      return findClientToken(tokenHash);
    },
    async updateClient(id, patch) {
      await outcomes.flush();
      return updateClient.immediate(id, patch);
    },
    async deleteClient(id) {
      return q.deleteClient.run(id).changes > 0;
    },
    async rotateClientToken(id, tokenHash, tokenPreview, graceUntil = Date.now()) {
      await outcomes.flush();
      return rotateToken.immediate(id, tokenHash, tokenPreview, graceUntil);
    },
    async touchClient(id, at) {
      q.touchClient.run({ id, at: at.toISOString() });
    },
    async recordClientOutcome(id, outcome) {
      outcomes.add(id, outcome);
    },
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
    async getSetting(name) {
      return q.getSetting.get(name)?.value;
    },
    async setSetting(name, value) {
      q.setSetting.run(name, value);
    },
    async setSettingIfAbsent(name, value) {
      q.initSetting.run(name, value);
      return q.getSetting.get(name)!.value;
    },
    close: closeAfterOutcomes(outcomes, () => {
      db.close();
    }),
  };
}

/**
 * The embedded Store: SQLite (better-sqlite3) in DATA_DIR. WAL with synchronous=FULL, so a
 * write acknowledged to an HTTP caller survives kill -9 and power loss alike.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateId } from './secrets.js';
import type { ApiKeyRecord, ClientRecord, NewApiKey, NewClient, Store } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  lmarena_bridge_url TEXT,
  capabilities TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen TEXT,
  metadata TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  token_preview TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  preview TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

type ClientRow = Omit<ClientRecord, 'capabilities' | 'metadata'> & { capabilities: string; metadata: string };
type KeyRow = Omit<ApiKeyRecord, 'scopes'> & { scopes: string };

const clientColumns =
  'id, name, email, lmarena_bridge_url, capabilities, status, created_at, last_seen, metadata, token_preview';
const keyColumns = 'id, name, preview, scopes, created_at, last_used_at';

const toClient = (row: ClientRow): ClientRecord => ({
  ...row,
  capabilities: JSON.parse(row.capabilities) as string[],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});
const toKey = (row: KeyRow): ApiKeyRecord => ({ ...row, scopes: JSON.parse(row.scopes) as string[] });

/** Opens (creating if needed) the store at `<dataDir>/relay.db`; `':memory:'` for a throwaway one. */
export function openSqliteStore(dataDir: string): Store {
  const file = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'relay.db');
  if (file !== ':memory:') mkdirSync(dataDir, { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const q = {
    insertClient: db.prepare(
      `INSERT INTO clients (id, name, email, lmarena_bridge_url, capabilities, status, created_at, metadata, token_hash, token_preview)
       VALUES (@id, @name, @email, @lmarena_bridge_url, @capabilities, 'pending', @created_at, @metadata, @token_hash, @token_preview)`,
    ),
    getClient: db.prepare<[string], ClientRow>(`SELECT ${clientColumns} FROM clients WHERE id = ?`),
    listClients: db.prepare<[], ClientRow>(`SELECT ${clientColumns} FROM clients ORDER BY created_at, id`),
    clientByToken: db.prepare<[string], ClientRow>(
      `SELECT ${clientColumns} FROM clients WHERE token_hash = ?`,
    ),
    touchClient: db.prepare(
      `UPDATE clients SET last_seen = @at, status = CASE status WHEN 'pending' THEN 'active' ELSE status END WHERE id = @id`,
    ),
    insertKey: db.prepare(
      `INSERT INTO api_keys (id, name, preview, key_hash, scopes, created_at)
       VALUES (@id, @name, @preview, @key_hash, @scopes, @created_at)`,
    ),
    listKeys: db.prepare<[], KeyRow>(
      `SELECT ${keyColumns} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id`,
    ),
    keyById: db.prepare<[string], KeyRow>(`SELECT ${keyColumns} FROM api_keys WHERE id = ?`),
    keyByHash: db.prepare<[string], KeyRow>(
      `SELECT ${keyColumns} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL`,
    ),
    revokeKey: db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
    getSetting: db.prepare<[string], { value: string }>(`SELECT value FROM settings WHERE name = ?`),
    setSetting: db.prepare(
      `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`,
    ),
  };

  let closed = false;
  return {
    async createClient(input: NewClient) {
      const id = generateId('cl');
      q.insertClient.run({
        id,
        name: input.name,
        email: input.email,
        lmarena_bridge_url: input.lmarena_bridge_url,
        capabilities: JSON.stringify(input.capabilities),
        created_at: new Date().toISOString(),
        metadata: JSON.stringify(input.metadata),
        token_hash: input.tokenHash,
        token_preview: input.tokenPreview,
      });
      return toClient(q.getClient.get(id)!);
    },
    async getClient(id) {
      const row = q.getClient.get(id);
      return row && toClient(row);
    },
    async listClients() {
      return q.listClients.all().map(toClient);
    },
    async findClientByTokenHash(tokenHash) {
      const row = q.clientByToken.get(tokenHash);
      return row && toClient(row);
    },
    async touchClient(id, at) {
      q.touchClient.run({ id, at: at.toISOString() });
    },
    async createApiKey(input: NewApiKey) {
      const id = generateId('key');
      q.insertKey.run({
        id,
        name: input.name,
        preview: input.preview,
        key_hash: input.keyHash,
        scopes: JSON.stringify(input.scopes),
        created_at: new Date().toISOString(),
      });
      return toKey(q.keyById.get(id)!);
    },
    async listApiKeys() {
      return q.listKeys.all().map(toKey);
    },
    async findApiKeyByHash(keyHash) {
      const row = q.keyByHash.get(keyHash);
      return row && toKey(row);
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
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

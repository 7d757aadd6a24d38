/**
 * The embedded store's schema and its migrations. The version lives in the `schema_version`
 * setting (absent = 1, the first released schema). Migrations only add: columns via ALTER TABLE
 * when missing, indexes IF NOT EXISTS, and run in one IMMEDIATE transaction, so a crash mid-way
 * leaves the previous version intact and two processes opening one file cannot both migrate.
 */
import type { Database } from 'better-sqlite3';
import { clientNameKey } from './store.js';

export const SCHEMA_VERSION = 4;

/** Version 1, as the first release created it; later versions build on it. */
const BASE_SCHEMA = `
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

/** Columns version 2 adds, with their declarations. */
const V2_COLUMNS: Record<'clients' | 'api_keys', Array<[string, string]>> = {
  clients: [
    // Unique form of the name; NULL only for legacy duplicates (see migrateToV2).
    ['name_key', 'TEXT'],
    ['rate_limit', "TEXT NOT NULL DEFAULT '{}'"],
    ['total_requests', 'INTEGER NOT NULL DEFAULT 0'],
    ['successful_requests', 'INTEGER NOT NULL DEFAULT 0'],
    ['failed_requests', 'INTEGER NOT NULL DEFAULT 0'],
    ['response_ms_total', 'REAL NOT NULL DEFAULT 0'],
    ['recent_success', 'REAL NOT NULL DEFAULT 0'],
  ],
  api_keys: [
    ['allowed_models', 'TEXT'],
    ['expires_at', 'TEXT'],
    ['limits', "TEXT NOT NULL DEFAULT '{}'"],
  ],
};

/**
 * Columns version 3 adds: the scope table a key's scopes were written under (1 = before the
 * per-route table; see `readScopes`), and the previous credential of a client or key with the
 * time (ms epoch) until which it is still accepted (a rotation's grace period).
 */
const V3_COLUMNS: Record<'clients' | 'api_keys', Array<[string, string]>> = {
  clients: [
    ['prev_token_hash', 'TEXT'],
    ['prev_token_until', 'INTEGER'],
  ],
  api_keys: [
    ['scope_table', 'INTEGER NOT NULL DEFAULT 1'],
    ['prev_key_hash', 'TEXT'],
    ['prev_key_until', 'INTEGER'],
  ],
};

/** Columns version 4 adds: the owner's alert webhook and the secret its messages are signed with. */
const V4_COLUMNS: Record<'clients' | 'api_keys', Array<[string, string]>> = {
  clients: [
    ['webhook_url', 'TEXT'],
    ['webhook_secret', 'TEXT'],
  ],
  api_keys: [],
};

function addMissingColumns(
  db: Database,
  table: 'clients' | 'api_keys',
  wanted: Record<'clients' | 'api_keys', Array<[string, string]>> = V2_COLUMNS,
): void {
  const columns = db.pragma(`table_info(${table})`) as Array<{ name: string }>;
  const present = new Set(columns.map((c) => c.name));
  for (const [name, declaration] of wanted[table]) {
    if (!present.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${declaration}`);
  }
}

function migrateToV2(db: Database): void {
  addMissingColumns(db, 'clients');
  addMissingColumns(db, 'api_keys');
  // Version 1 allowed duplicate names. The oldest client keeps the name's key; later duplicates
  // keep working with a NULL key (UNIQUE ignores NULLs) until they are renamed.
  const rows = db
    .prepare<[], { id: string; name: string }>(
      'SELECT id, name FROM clients WHERE name_key IS NULL ORDER BY created_at, id',
    )
    .all();
  const taken = new Set(
    db
      .prepare<[], { name_key: string }>('SELECT name_key FROM clients WHERE name_key IS NOT NULL')
      .all()
      .map((r) => r.name_key),
  );
  const setKey = db.prepare('UPDATE clients SET name_key = ? WHERE id = ?');
  for (const row of rows) {
    const key = clientNameKey(row.name);
    if (taken.has(key)) continue;
    taken.add(key);
    setKey.run(key, row.id);
  }
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS clients_name_key ON clients(name_key)');
}

function migrateToV3(db: Database): void {
  addMissingColumns(db, 'clients', V3_COLUMNS);
  addMissingColumns(db, 'api_keys', V3_COLUMNS);
  db.exec(`CREATE INDEX IF NOT EXISTS clients_prev_token ON clients(prev_token_hash);
    CREATE INDEX IF NOT EXISTS api_keys_prev_key ON api_keys(prev_key_hash);`);
}

/** Creates or upgrades the schema to SCHEMA_VERSION. Throws on a file from a newer relay. */
export function migrate(db: Database): void {
  db.transaction(() => {
    db.exec(BASE_SCHEMA);
    const row = db
      .prepare<[], { value: string }>("SELECT value FROM settings WHERE name = 'schema_version'")
      .get();
    const version = row ? Number(row.value) : 1;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `relay.db has schema version ${version}, newer than this relay understands (${SCHEMA_VERSION})`,
      );
    }
    if (version === SCHEMA_VERSION) return;
    if (version < 2) migrateToV2(db);
    if (version < 3) migrateToV3(db);
    if (version < 4) addMissingColumns(db, 'clients', V4_COLUMNS);
    db.prepare(
      "INSERT INTO settings (name, value) VALUES ('schema_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    ).run(String(SCHEMA_VERSION));
  }).immediate();
}

/** The embedded store opens a relay.db written by the first schema (version 1) and upgrades it in place. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../relay/src/store/secrets.js';
import { openSqliteStore } from '../relay/src/store/sqlite-store.js';
import { DuplicateNameError } from '../relay/src/store/store.js';
import { track } from './support/cleanup.js';

/** The schema as the first release created it, verbatim. */
const V1_SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT, lmarena_bridge_url TEXT, capabilities TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, last_seen TEXT, metadata TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE, token_preview TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, preview TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

function writeV1(dir: string): void {
  const db = new Database(join(dir, 'relay.db'));
  db.pragma('journal_mode = WAL');
  db.exec(V1_SCHEMA);
  const client = db.prepare(
    `INSERT INTO clients VALUES (?, ?, NULL, NULL, '["chat"]', ?, ?, ?, '{"k":1}', ?, 'art_xxxxxx…')`,
  );
  client.run(
    'cl_old',
    'Shared',
    'active',
    '2024-01-01T00:00:00.000Z',
    '2024-01-02T00:00:00.000Z',
    hashSecret('t1'),
  );
  // Version 1 did not enforce unique names.
  client.run('cl_dup', 'shared', 'pending', '2024-01-03T00:00:00.000Z', null, hashSecret('t2'));
  const key = db.prepare(`INSERT INTO api_keys VALUES (?, ?, 'sk-ar-xxxx…', ?, '["chat"]', ?, NULL, ?)`);
  key.run('key_live', 'live', hashSecret('k1'), '2024-01-01T00:00:00.000Z', null);
  key.run('key_dead', 'dead', hashSecret('k2'), '2024-01-02T00:00:00.000Z', '2024-02-01T00:00:00.000Z');
  db.prepare('INSERT INTO settings VALUES (?, ?)').run('admin_token_hash', 'abc');
  db.close();
}

describe('embedded store migration', () => {
  it('upgrades a version 1 database in place, keeping every record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-migrate-'));
    writeV1(dir);
    const store = track(openSqliteStore(dir));

    expect(await store.getSetting('schema_version')).toBe('4');
    expect(await store.getSetting('admin_token_hash')).toBe('abc');
    const clients = await store.listClients();
    expect(clients.map((c) => [c.id, c.name, c.status])).toEqual([
      ['cl_old', 'Shared', 'active'],
      ['cl_dup', 'shared', 'pending'],
    ]);
    expect(clients[0]).toMatchObject({
      metadata: { k: 1 },
      last_seen: '2024-01-02T00:00:00.000Z',
      rate_limit: { requests_per_minute: null, requests_per_day: null, max_concurrency: null },
      total_requests: 0,
      avg_response_ms: null,
      health: 'unknown',
    });
    expect((await store.findClientByTokenHash(hashSecret('t2')))?.id).toBe('cl_dup');

    // The oldest holder keeps the name; the legacy duplicate works until renamed.
    await expect(
      store.createClient({
        name: 'SHARED',
        email: null,
        lmarena_bridge_url: null,
        capabilities: [],
        metadata: {},
        tokenHash: hashSecret('t3'),
        tokenPreview: 'x',
      }),
    ).rejects.toBeInstanceOf(DuplicateNameError);
    await expect(store.updateClient('cl_dup', { name: 'Shared' })).rejects.toBeInstanceOf(DuplicateNameError);
    expect((await store.updateClient('cl_dup', { name: 'renamed', status: 'disabled' }))?.name).toBe(
      'renamed',
    );
    await store.recordClientOutcome('cl_old', { ok: true, durationMs: 5 });
    expect((await store.getClient('cl_old'))?.total_requests).toBe(1);

    expect(await store.findApiKeyByHash(hashSecret('k1'))).toMatchObject({
      id: 'key_live',
      // A key from before the per-route table keeps what its `chat` opened (not images).
      scopes: ['chat', 'messages', 'responses'],
      allowed_models: null,
      expires_at: null,
      limits: {
        requests_per_minute: null,
        requests_per_day: null,
        max_concurrency: null,
        tokens_per_day: null,
      },
      revoked: false,
    });
    expect(await store.findApiKeyByHash(hashSecret('k2'))).toBeUndefined();
    expect((await store.getApiKey('key_dead'))?.revoked).toBe(true);
    expect((await store.updateApiKey('key_live', { allowed_models: ['m'] }))?.allowed_models).toEqual(['m']);
    // Scopes set under the table are read as written.
    expect((await store.updateApiKey('key_live', { scopes: ['chat'] }))?.scopes).toEqual(['chat']);

    // Opening again is a no-op migration.
    await store.close();
    const again = track(openSqliteStore(dir));
    expect((await again.listClients()).map((c) => c.name)).toEqual(['Shared', 'renamed']);
  });

  it('refuses a database written by a newer relay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-migrate-'));
    writeV1(dir);
    const db = new Database(join(dir, 'relay.db'));
    db.prepare("INSERT INTO settings VALUES ('schema_version', '99')").run();
    db.close();
    expect(() => openSqliteStore(dir)).toThrow(/schema version 99, newer than this relay understands \(4\)/);
  });
});

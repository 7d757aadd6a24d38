/**
 * The embedded Store: SQLite (better-sqlite3) in DATA_DIR, holding the clients
 * (sqlite-clients.ts), API keys (sqlite-api-keys.ts) and settings in one file whose schema
 * sqlite-schema.ts migrates. WAL with synchronous=FULL, so a write acknowledged to an HTTP caller
 * survives kill -9 and power loss alike. Every change that reads before it writes runs in one
 * IMMEDIATE transaction.
 */
import { closeAfterOutcomes } from './client-stats.js';
import { sqliteApiKeyStore } from './sqlite-api-keys.js';
import { sqliteClientStore } from './sqlite-clients.js';
import { openSqliteFile } from './sqlite-file.js';
import { migrate } from './sqlite-schema.js';
import type { Store } from './store.js';

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
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
    setSetting: db.prepare(
      'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    ),
    initSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
  };

  const { clients, outcomes } = sqliteClientStore(db);

  return {
    ...clients,
    ...sqliteApiKeyStore(db),
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

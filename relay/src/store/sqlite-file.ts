/**
 * Opens one of the relay's SQLite files (store, audit, usage, request archive each wrote this):
 * `<dataDir>/<name>`, the folder made when missing, or a throwaway in-memory one when `dataDir`
 * is `':memory:'`. WAL, so readers do not wait for the writer; a 5 s busy timeout, so a lock held
 * by another process (a backup, the sqlite3 shell) delays a write instead of failing it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * `durability`: `FULL` where an acknowledged write must survive a power cut (the store, the
 * audit log), `NORMAL` where losing the last batch is acceptable (usage, the request archive).
 */
export function openSqliteFile(
  dataDir: string,
  name: string,
  durability: 'FULL' | 'NORMAL',
): Database.Database {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, name);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability}`);
  db.pragma('busy_timeout = 5000');
  return db;
}

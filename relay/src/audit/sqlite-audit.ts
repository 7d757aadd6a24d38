/**
 * The audit log of an embedded relay in `<DATA_DIR>/audit.db` (SQLite, WAL, synchronous FULL: an
 * acknowledged admin action is on disk). Trimmed to the newest `maxEntries` as it grows.
 */
import { parseJsonAs } from '@arena-relay/shared';
import { sqlWhere } from '../store/sql-where.js';
import { openSqliteFile } from '../store/sqlite-file.js';
import { type AuditEntry, type AuditLog, type AuditQuery, auditEntry } from './audit-log.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  actor TEXT NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_ms);
`;

/** Trim once every this many appends (not on each: DELETE scans the index). */
const TRIM_EVERY = 100;

/** Opens (creating if needed) the audit file in `dataDir`; `':memory:'` for a throwaway one. */
export function openSqliteAudit(dataDir: string, maxEntries: number): AuditLog {
  const db = openSqliteFile(dataDir, 'audit.db', 'FULL');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO audit (at_ms, action, target, actor, entry) VALUES (?, ?, ?, ?, ?)');
  const trim = db.prepare('DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?');
  let appended = 0;
  return {
    async append(entry) {
      insert.run(Date.parse(entry.at), entry.action, entry.target, entry.actor, JSON.stringify(entry));
      if (++appended % TRIM_EVERY === 0) trim.run(maxEntries);
    },
    async query(q: AuditQuery) {
      const where = sqlWhere([
        ['action = ?', q.action],
        ['target = ?', q.target],
        ['actor = ?', q.actor],
        ['at_ms >= ?', q.sinceMs],
        ['at_ms < ?', q.untilMs],
        // The trim runs every TRIM_EVERY appends: never show more than maxEntries.
        ['seq > (SELECT MAX(seq) FROM audit) - ?', maxEntries],
      ]);
      const sql = `SELECT entry FROM audit${where.sql} ORDER BY seq DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...where.args, q.limit) as Array<{ entry: string }>;
      return rows.flatMap((row) => {
        const entry = parseJsonAs(auditEntry, row.entry);
        return entry ? [entry as AuditEntry] : [];
      });
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

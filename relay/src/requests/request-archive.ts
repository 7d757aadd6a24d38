/**
 * The request log kept on disk (`REQUEST_LOG_PERSIST=on`): `<DATA_DIR>/requests.db`, SQLite in
 * WAL, a file of its own so that it never contends with the store's fsync-per-write transactions.
 * Entries wait in memory and are written in one transaction every second (or at 500 waiting,
 * or before a read, or at close): a request's end never waits for the disk. Entries older than
 * `REQUEST_LOG_RETENTION_HOURS` are deleted as new ones are written, at most once a minute.
 * Entries read back are checked against the entry schema (a file edited by hand cannot plant
 * anything else in an answer).
 */
import { parseJsonAs } from '@arena-relay/shared';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { sqlWhere } from '../store/sql-where.js';
import { openSqliteFile } from '../store/sqlite-file.js';
import { type RequestEntry, requestEntry } from './request-entry.js';
import { matchesRequest, type RequestFilter } from './request-log.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_at ON requests (at_ms);
CREATE INDEX IF NOT EXISTS requests_id ON requests (id);
`;

const FLUSH_MS = 1000;
/** Waiting entries that trigger a write at once: memory stays bounded under a flood. */
const FLUSH_AT = 500;
const PRUNE_EVERY_MS = 60_000;

export type RequestArchiveOptions = {
  /** `':memory:'` for a throwaway one. */
  dataDir: string;
  retentionMs: number;
  logger: Logger;
  /** The clock (tests move it to see the retention at work). */
  now?: () => number;
};

export class RequestArchive {
  private readonly db: Database.Database;
  private readonly insertAll: (entries: RequestEntry[]) => void;
  private readonly prune: Database.Statement<[number]>;
  private pending: RequestEntry[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private prunedAt = 0;
  private closed = false;

  constructor(private readonly options: RequestArchiveOptions) {
    this.now = options.now ?? Date.now;
    // A power cut may lose the last batch: a log, not a ledger.
    this.db = openSqliteFile(options.dataDir, 'requests.db', 'NORMAL');
    this.db.exec(SCHEMA);
    const insert = this.db.prepare(
      'INSERT INTO requests (at_ms, id, key_id, status, outcome, entry) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertAll = this.db.transaction((entries: RequestEntry[]) => {
      for (const e of entries)
        insert.run(Date.parse(e.at), e.id, e.key_id, e.status, e.outcome, JSON.stringify(e));
    });
    this.prune = this.db.prepare('DELETE FROM requests WHERE at_ms < ?');
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  add(entry: RequestEntry): void {
    if (this.closed) return;
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  /** Writes the waiting entries, and deletes those past the retention (at most once a minute). */
  flush(): void {
    if (this.closed) return;
    const batch = this.pending;
    this.pending = [];
    try {
      if (batch.length > 0) this.insertAll(batch);
      const now = this.now();
      if (now - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = now;
        this.prune.run(now - this.options.retentionMs);
      }
    } catch (error) {
      // A full disk loses log lines, never a request.
      this.options.logger.error(
        { err: (error as Error).message, lost: batch.length },
        'request log not written',
      );
    }
  }

  /** The matching entries within the retention, newest first. */
  query(filter: RequestFilter): RequestEntry[] {
    this.flush();
    const where = sqlWhere([
      ['at_ms >= ?', this.now() - this.options.retentionMs],
      ['id = ?', filter.id],
      ['key_id = ?', filter.key],
      ['outcome = ?', filter.outcome],
      ['status >= ?', filter.statusMin],
      ['status <= ?', filter.statusMax],
      ['at_ms >= ?', filter.sinceMs],
      ['at_ms < ?', filter.untilMs],
    ]);
    const rows = this.db
      .prepare(`SELECT entry FROM requests${where.sql} ORDER BY seq DESC`)
      .iterate(...where.args) as IterableIterator<{ entry: string }>;
    // Client, agent and model may match any attempt: checked here, row by row, until the limit.
    const found: RequestEntry[] = [];
    for (const row of rows) {
      const entry = parseJsonAs(requestEntry, row.entry);
      if (entry && matchesRequest(entry, filter)) found.push(entry);
      if (found.length >= filter.limit) break;
    }
    return found;
  }

  /** Writes what waits and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    if (this.db.open) this.db.close();
  }
}

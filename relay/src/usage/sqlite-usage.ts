/**
 * Usage counters of an embedded relay in `<DATA_DIR>/usage.db` (SQLite, WAL), a file of its own
 * so that metering never contends with the store's fsync-per-write transactions. A batch is one
 * transaction; `synchronous = NORMAL` keeps every committed batch across a crash of the process
 * (a power cut may lose the last one, i.e. up to a second of usage).
 */
import { type SqlValue, sqlWhere } from '../store/sql-where.js';
import { openSqliteFile } from '../store/sqlite-file.js';
import type { UsageFilter, UsageRow, UsageStore } from './usage-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_hourly (
  hour TEXT NOT NULL,
  key_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  model TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  succeeded INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  estimated_requests INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  ttfb_ms INTEGER NOT NULL DEFAULT 0,
  ttfb_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, key_id, client_id, model)
) WITHOUT ROWID;
`;

const COLUMNS = `hour, key_id AS keyId, client_id AS clientId, model, requests, succeeded, cancelled, failed,
  prompt_tokens AS promptTokens, completion_tokens AS completionTokens, estimated_requests AS estimatedRequests,
  duration_ms AS durationMs, ttfb_ms AS ttfbMs, ttfb_count AS ttfbCount`;

/** Opens (creating if needed) the usage file in `dataDir`; `':memory:'` for a throwaway one. */
export function openSqliteUsage(dataDir: string): UsageStore {
  const db = openSqliteFile(dataDir, 'usage.db', 'NORMAL');
  db.exec(SCHEMA);
  const upsert = db.prepare<UsageRow>(`
    INSERT INTO usage_hourly (hour, key_id, client_id, model, requests, succeeded, cancelled, failed,
      prompt_tokens, completion_tokens, estimated_requests, duration_ms, ttfb_ms, ttfb_count)
    VALUES (@hour, @keyId, @clientId, @model, @requests, @succeeded, @cancelled, @failed,
      @promptTokens, @completionTokens, @estimatedRequests, @durationMs, @ttfbMs, @ttfbCount)
    ON CONFLICT (hour, key_id, client_id, model) DO UPDATE SET
      requests = requests + excluded.requests,
      succeeded = succeeded + excluded.succeeded,
      cancelled = cancelled + excluded.cancelled,
      failed = failed + excluded.failed,
      prompt_tokens = prompt_tokens + excluded.prompt_tokens,
      completion_tokens = completion_tokens + excluded.completion_tokens,
      estimated_requests = estimated_requests + excluded.estimated_requests,
      duration_ms = duration_ms + excluded.duration_ms,
      ttfb_ms = ttfb_ms + excluded.ttfb_ms,
      ttfb_count = ttfb_count + excluded.ttfb_count`);
  const addAll = db.transaction((rows: UsageRow[]) => {
    for (const row of rows) upsert.run(row);
  });
  let closed = false;

  return {
    async add(rows) {
      if (rows.length > 0) addAll(rows);
    },
    async query(filter: UsageFilter) {
      const where = sqlWhere([
        ['key_id = ?', filter.keyId],
        ['client_id = ?', filter.clientId],
        ['model = ?', filter.model],
        ['hour >= ?', filter.fromHour],
        ['hour < ?', filter.toHour],
      ]);
      return db
        .prepare<SqlValue[], UsageRow>(`SELECT ${COLUMNS} FROM usage_hourly${where.sql}`)
        .all(...where.args);
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

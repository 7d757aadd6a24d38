/** The on-disk request log: filters as the ring's, the retention, planted rows skipped. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RequestArchive } from './request-archive.js';
import type { RequestEntry } from './request-entry.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function entry(n: number, atMs: number, over: Partial<RequestEntry> = {}): RequestEntry {
  return {
    id: `req_${n}`,
    relay: 'rly_1',
    at: new Date(atMs).toISOString(),
    key_id: 'key_a',
    client_id: 'cl_a',
    agent_id: 'agt_a',
    model: 'gpt-5',
    model_served: 'gpt-5',
    stream: false,
    status: 200,
    outcome: 'ok',
    error_code: null,
    attempts: [],
    ttfb_ms: 5,
    duration_ms: 9,
    bytes: 10,
    ...over,
  };
}

function open(now: { ms: number }, dataDir = ':memory:') {
  return new RequestArchive({
    dataDir,
    retentionMs: 2 * HOUR,
    logger: pino({ level: 'silent' }),
    now: () => now.ms,
  });
}

/** An archive in a fresh directory, its first entry (req_1 at T0) added. */
function onDisk(now: { ms: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-requests-'));
  const archive = open(now, dir);
  archive.add(entry(1, T0));
  return { dir, archive };
}

/** The ids `filter` finds, as the archive orders them. */
function ids(archive: RequestArchive, filter: Parameters<RequestArchive['query']>[0] = { limit: 10 }) {
  return archive.query(filter).map((e) => e.id);
}

describe('RequestArchive', () => {
  it('answers filters newest first, a client matching any attempt', () => {
    const now = { ms: T0 };
    const archive = open(now);
    archive.add(entry(1, T0 - 3000));
    archive.add(entry(2, T0 - 2000, { key_id: 'key_b', status: 503, outcome: 'upstream_unavailable' }));
    archive.add(
      entry(3, T0 - 1000, {
        attempts: [
          {
            agent_id: 'agt_x',
            client_id: 'cl_x',
            model: 'gpt-5',
            started_ms: 0,
            duration_ms: 3,
            code: 'agent_gone',
            reason: null,
            upstream_status: null,
          },
        ],
      }),
    );
    expect(ids(archive, { limit: 10 })).toEqual(['req_3', 'req_2', 'req_1']);
    expect(ids(archive, { limit: 10, key: 'key_b' })).toEqual(['req_2']);
    expect(ids(archive, { limit: 10, statusMin: 500, statusMax: 599 })).toEqual(['req_2']);
    expect(ids(archive, { limit: 10, client: 'cl_x' })).toEqual(['req_3']);
    expect(ids(archive, { limit: 10, id: 'req_1' })).toEqual(['req_1']);
    expect(ids(archive, { limit: 1 })).toEqual(['req_3']);
    archive.close();
    archive.close();
  });

  it('forgets entries past the retention, on disk too', () => {
    const now = { ms: T0 };
    const { dir, archive } = onDisk(now);
    archive.flush();
    now.ms = T0 + HOUR;
    archive.add(entry(2, now.ms));
    expect(ids(archive)).toEqual(['req_2', 'req_1']);
    // Past the retention the old entry is not shown, and the next write deletes it.
    now.ms = T0 + 2 * HOUR + 1;
    expect(ids(archive)).toEqual(['req_2']);
    archive.close();
    const db = new Database(join(dir, 'requests.db'), { readonly: true });
    expect(db.prepare('SELECT id FROM requests').all()).toEqual([{ id: 'req_2' }]);
    db.close();
  });

  it('skips a planted row that is not an entry', () => {
    const now = { ms: T0 };
    const { dir, archive } = onDisk(now);
    archive.close();
    const db = new Database(join(dir, 'requests.db'));
    const plant = db.prepare(
      'INSERT INTO requests (at_ms, id, key_id, status, outcome, entry) VALUES (?, ?, ?, ?, ?, ?)',
    );
    plant.run(T0, 'req_bad', 'key_a', 200, 'ok', '{"id":"req_bad","prompt":"secret"}');
    plant.run(T0, 'req_junk', 'key_a', 200, 'ok', 'not json');
    db.close();
    const reopened = open(now, dir);
    expect(ids(reopened)).toEqual(['req_1']);
    reopened.close();
  });
});

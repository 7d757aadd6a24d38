import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteFile } from './sqlite-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openSqliteFile', () => {
  it('makes the folder, opens <dataDir>/<name> in WAL with the durability asked for', () => {
    const base = mkdtempSync(join(tmpdir(), 'arena-sqlite-'));
    dirs.push(base);
    const dataDir = join(base, 'nested', 'data');
    const db = openSqliteFile(dataDir, 'x.db', 'FULL');
    expect(existsSync(join(dataDir, 'x.db'))).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
    const normal = openSqliteFile(dataDir, 'y.db', 'NORMAL');
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });

  it("keeps ':memory:' in memory and writes no file", () => {
    const db = openSqliteFile(':memory:', 'x.db', 'FULL');
    expect(db.memory).toBe(true);
    expect(existsSync(':memory:')).toBe(false);
    db.close();
  });
});

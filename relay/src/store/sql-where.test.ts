import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqlWhere } from './sql-where.js';

describe('sqlWhere', () => {
  it('joins the set conditions in order and leaves out the undefined ones', () => {
    expect(
      sqlWhere([
        ['a = ?', 'x'],
        ['b = ?', undefined],
        ['c >= ?', 0],
      ]),
    ).toEqual({
      sql: ' WHERE a = ? AND c >= ?',
      args: ['x', 0],
    });
  });

  it('is empty when nothing is set', () => {
    expect(sqlWhere([['a = ?', undefined]])).toEqual({ sql: '', args: [] });
  });

  it('keeps hostile values out of the SQL text', () => {
    const db = new Database(':memory:');
    db.exec("CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('a'), ('b')");
    const { sql, args } = sqlWhere([['name = ?', "a' OR '1'='1"]]);
    expect(sql).not.toContain('OR');
    expect(db.prepare(`SELECT name FROM t${sql}`).all(...args)).toEqual([]);
    db.close();
  });
});

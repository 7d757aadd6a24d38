/**
 * The WHERE clause of a SQLite query built from optional filters (the audit log, the request
 * archive and usage each wrote this builder): a filter whose value is undefined adds nothing,
 * values travel as `?` parameters, never in the SQL text.
 */
export type SqlValue = string | number;

/** `[clause with one ?, value]` pairs → ` WHERE a AND b` (or '' when none is set) and their values, in order. */
export function sqlWhere(conditions: ReadonlyArray<readonly [clause: string, value: SqlValue | undefined]>): {
  sql: string;
  args: SqlValue[];
} {
  const set = conditions.filter((c): c is readonly [string, SqlValue] => c[1] !== undefined);
  return {
    sql: set.length > 0 ? ` WHERE ${set.map(([clause]) => clause).join(' AND ')}` : '',
    args: set.map(([, value]) => value),
  };
}

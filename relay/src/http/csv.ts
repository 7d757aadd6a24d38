/** CSV as RFC 4180 has it: a header row, CRLF line ends, a field quoted when it holds a comma, a quote or a line break. */

/** One CSV field (quotes doubled inside a quoted one). */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header row of `columns`, then one row per record. */
export function toCsv<T>(columns: ReadonlyArray<keyof T & string>, rows: Iterable<T>): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

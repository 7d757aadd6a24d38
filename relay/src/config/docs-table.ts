/**
 * The README's table of relay variables, as rows built from the FIELDS table so the two cannot
 * drift (`npm run docs:config` writes it; a test fails when the README differs).
 */
import type { Field } from './field.js';
import { FIELDS } from './fields.js';

/** The default as the README shows it: the schema's own, in code style, or `—` for none. */
function shownDefault(field: Field): string {
  if (field.shownDefault !== undefined) return field.shownDefault;
  const parsed = field.schema.safeParse(undefined);
  const value: unknown = parsed.success ? parsed.data : undefined;
  const empty =
    value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  return empty ? '—' : `\`${String(value)}\``;
}

/** Header and rows (variable, default, meaning), in the table's order. */
export function relayConfigRows(): string[][] {
  return [
    ['variable', 'default', 'meaning'],
    ...Object.values(FIELDS).map((field: Field) => [`\`${field.env}\``, shownDefault(field), field.doc]),
  ];
}

/**
 * The README's table of agent settings, as rows built from the FIELDS table (defaults from each
 * field's schema); `npm run docs:config` writes it, a test fails when the README differs.
 */
import { FIELDS, type FieldName, type FieldSource } from './schema.js';

/** The default as the README shows it: the schema's own, `required`, or `—` for none. */
function shownDefault(field: FieldSource): string {
  const parsed = field.schema.safeParse(undefined);
  if (!parsed.success) return 'required';
  const value: unknown = parsed.data;
  if (value === undefined) return '—';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

const code = (text: string | undefined) => (text === undefined ? '—' : `\`${text}\``);

/** Header and rows (file key, variable, flag, default, meaning), in the table's order. */
export function agentConfigRows(): string[][] {
  return [
    ['config.jsonc', 'environment', 'flag', 'default', 'meaning'],
    ...(Object.keys(FIELDS) as FieldName[]).map((name) => {
      const field: FieldSource = FIELDS[name];
      return [code(field.file), code(field.env), code(field.flag), shownDefault(field), field.doc];
    }),
  ];
}

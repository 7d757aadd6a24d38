/**
 * The README's table of agent settings, as rows built from the FIELDS table and the schema's
 * defaults (`npm run docs:config` writes it; a test fails when the README differs).
 */
import { configSchema, FIELDS, type FieldName, type FieldSource } from './schema.js';

/** The default as the README shows it: the schema's own, `required`, or `—` for none. */
function shownDefault(name: FieldName): string {
  const parsed = configSchema.shape[name].safeParse(undefined);
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
      return [code(field.file), code(field.env), code(field.flag), shownDefault(name), field.doc];
    }),
  ];
}

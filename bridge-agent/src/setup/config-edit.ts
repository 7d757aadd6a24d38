/**
 * `setup`'s changes to config.jsonc: settings given as the agent's flags (`--upstream URL`…) are
 * written into the file at their FIELDS key, keeping its comments and layout, checked by the same
 * `loadConfig` the agent (and a service, which sees only this file) will run.
 */
import { readFileSync } from 'node:fs';
import { applyEdits, modify } from 'jsonc-parser';
import { loadConfig } from '../config/load-config.js';
import { type AgentConfig, FIELDS, type FieldName } from '../config/schema.js';
import { flagLayer } from '../config/sources.js';

export type ConfigEdit = {
  /** The file's text after the edits (the old text when nothing changed). */
  text: string;
  config: AgentConfig;
  /** File keys set from flags, in FIELDS order. */
  changed: string[];
};

function withValues(text: string, values: ReadonlyArray<[path: string, value: unknown]>): string {
  let out = text;
  for (const [path, value] of values) {
    const edits = modify(out, path.split('.'), value, {
      formattingOptions: { insertSpaces: true, tabSize: 2 },
    });
    out = applyEdits(out, edits);
  }
  return out;
}

/**
 * Applies the setting flags of `argv` to `original` (the file's text, or undefined when there is
 * none) and validates the result as the file alone, without environment. Throws `ConfigError`.
 */
export function editConfig(
  path: string,
  original: string | undefined,
  argv: readonly string[],
  /** Values the owner typed at setup's prompts (the bridge's key has no flag: it is a secret). */
  answers: Partial<Record<FieldName, string>> = {},
): ConfigEdit {
  const flags = flagLayer(argv);
  const values: Partial<Record<FieldName, unknown>> = { ...answers, ...flags.values };
  const names = (Object.keys(FIELDS) as FieldName[]).filter((name) => values[name] !== undefined);
  const raw = names.map((name): [string, unknown] => [FIELDS[name].file, values[name]]);
  const draft = withValues(original ?? '{\n}\n', raw);
  const read = (file: string): string | undefined => {
    if (file === path) return draft;
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  // The flags again after the file: same values, but problems name the flag, and unknown flags are listed.
  const config = loadConfig({ argv: [...argv, '--config', path], env: {}, readFile: read });
  // Typed values (numbers, the CA's absolute path) replace the flags' strings; relay addresses stay as written.
  const typed = names.map((name): [string, unknown] => [
    FIELDS[name].file,
    name === 'relayUrls' ? values[name] : config[name],
  ]);
  return {
    text: names.length > 0 ? withValues(original ?? '{\n}\n', typed) : draft,
    config,
    changed: typed.map(([file]) => file),
  };
}

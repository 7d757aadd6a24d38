/**
 * The three places settings come from, each turned into `{ values, origins, problems }` over the
 * FIELDS table: config.jsonc (comments and trailing commas allowed), environment, command line.
 */
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { FIELDS, type FieldName, type FieldSource } from './schema.js';

/** Raw, not yet validated values of one source, and where each came from (for messages). */
export type Layer = {
  values: Partial<Record<FieldName, unknown>>;
  origins: Partial<Record<FieldName, string>>;
  problems: string[];
};

const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

function emptyLayer(): Layer {
  return { values: {}, origins: {}, problems: [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Reads the JSONC text of config.jsonc. `null` values count as "not set". */
export function fileLayer(text: string, path: string): Layer {
  const layer = emptyLayer();
  const errors: ParseError[] = [];
  const root: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  for (const error of errors) {
    layer.problems.push(`${path}:${lineColumn(text, error.offset)}: ${printParseErrorCode(error.error)}`);
  }
  if (root === undefined) return layer;
  if (!isObject(root)) {
    layer.problems.push(`${path}: the top level must be an object`);
    return layer;
  }
  if (root.platform_integration !== undefined && !isObject(root.platform_integration)) {
    layer.problems.push(`${path}: platform_integration must be an object`);
  }
  for (const name of FIELD_NAMES) {
    let value: unknown = root;
    for (const key of FIELDS[name].file.split('.')) value = isObject(value) ? value[key] : undefined;
    if (value === undefined || value === null) continue;
    layer.values[name] = value;
    layer.origins[name] = path;
  }
  return layer;
}

/** Reads the AGENT_* variables; empty strings count as "not set". */
export function envLayer(env: Record<string, string | undefined>): Layer {
  const layer = emptyLayer();
  for (const name of FIELD_NAMES) {
    const source: FieldSource = FIELDS[name];
    const value = source.env ? env[source.env] : undefined;
    if (value === undefined || value === '') continue;
    layer.values[name] = value;
    layer.origins[name] = source.env;
  }
  return layer;
}

const FLAG_FIELDS = new Map<string, FieldName>();
for (const name of FIELD_NAMES) {
  const source: FieldSource = FIELDS[name];
  if (source.flag) FLAG_FIELDS.set(source.flag, name);
}

/** Parsed command line: setting values plus `--config` and `--help`. */
export type FlagLayer = Layer & { configPath?: string; help: boolean };

/** Parses `--name value` and `--name=value`; unknown flags and stray arguments are problems. */
export function flagLayer(argv: readonly string[]): FlagLayer {
  const layer: FlagLayer = { ...emptyLayer(), help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      layer.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      layer.problems.push(`unexpected argument "${arg}" (settings are given as --name value)`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const field = FLAG_FIELDS.get(flag);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) value = argv[++i];
    if (!field && flag !== '--config') {
      // Its value (if any) was consumed above, so it is not reported again as a stray argument.
      layer.problems.push(`unknown flag ${flag} (see --help)`);
      continue;
    }
    if (value === undefined) {
      layer.problems.push(`${flag} needs a value`);
      continue;
    }
    if (field) {
      layer.values[field] = value;
      layer.origins[field] = flag;
    } else {
      layer.configPath = value;
    }
  }
  return layer;
}

/** Later layers win, value by value. */
export function mergeLayers(layers: readonly Layer[]): Layer {
  const merged = emptyLayer();
  for (const layer of layers) {
    Object.assign(merged.values, layer.values);
    Object.assign(merged.origins, layer.origins);
    merged.problems.push(...layer.problems);
  }
  return merged;
}

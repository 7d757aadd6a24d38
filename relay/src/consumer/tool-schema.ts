/**
 * The check a parsed tool call's arguments must pass before the relay calls it a call: a JSON
 * object, the schema's `required` properties present, each declared property of the right
 * top-level `type` (and in its `enum`), no others when `additionalProperties` is false. Nested
 * schemas are not checked: the consumer's own validation sees those. The agent writes the
 * arguments (up to a whole held reply): no check here costs more than one pass over them.
 */

/** A tool's JSON schema, as consumers send it (only the parts read here are typed). */
export type JsonSchema = Record<string, unknown>;

/** Whether `value` has JSON schema type `type`. */
function hasType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    default:
      return true; // a type the relay does not know: not its to refuse
  }
}

function matches(value: unknown, schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return true;
  const { type, enum: allowed } = schema as { type?: unknown; enum?: unknown };
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.some((t) => hasType(value, t))) return false;
  }
  if (Array.isArray(allowed) && !inEnum(value, allowed)) return false;
  return true;
}

/**
 * Whether `value` equals one of `allowed`. A primitive compares by `===` (no serialising); an
 * object or array is serialised once and compared only with entries of its own kind, so the work
 * is the value's size plus the entries' (which the consumer sent), never their product.
 */
function inEnum(value: unknown, allowed: unknown[]): boolean {
  if (value === null || typeof value !== 'object') return allowed.includes(value);
  const array = Array.isArray(value);
  let json: string | undefined;
  for (const entry of allowed) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry) !== array) continue;
    json ??= JSON.stringify(value);
    if (JSON.stringify(entry) === json) return true;
  }
  return false;
}

/** Whether `args` may be sent as a call of a tool declared with `schema` (none: any object). */
export function argumentsMatch(args: Record<string, unknown>, schema: JsonSchema | undefined): boolean {
  if (!schema) return true;
  const { required, properties, additionalProperties } = schema as {
    required?: unknown;
    properties?: unknown;
    additionalProperties?: unknown;
  };
  if (Array.isArray(required)) {
    for (const name of required) {
      if (typeof name === 'string' && !Object.hasOwn(args, name)) return false;
    }
  }
  const declared =
    properties !== null && typeof properties === 'object' ? (properties as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(args)) {
    if (Object.hasOwn(declared, name)) {
      if (!matches(value, declared[name])) return false;
    } else if (additionalProperties === false) {
      return false;
    }
  }
  return true;
}

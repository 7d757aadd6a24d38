/**
 * Writes the routed model into a request body the relay flagged `rerouted` (an alias or a
 * fallback routed another model than the body names; `open.model` says which). The only time the
 * agent parses a body: every other one goes to the bridge as the bytes that came.
 */

export type RoutedBody = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * `body` with its `model` set to `model`, re-encoded; a body that is not a JSON object (or that
 * cannot be encoded again, nested past the stack) is refused in words, never thrown.
 */
export function writeRoutedModel(
  stream: number,
  body: Buffer | readonly Buffer[],
  model: string,
): RoutedBody {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.concat(body);
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      (value as Record<string, unknown>).model = model;
      return { ok: true, bytes: Buffer.from(JSON.stringify(value)) };
    }
  } catch {
    // Not JSON, or too deep to encode again: refused below like any other body without an object.
  }
  return {
    ok: false,
    reason: `the rerouted body of stream ${stream} is not a JSON object the model can be written into`,
  };
}

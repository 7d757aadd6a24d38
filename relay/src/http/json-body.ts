/**
 * The admin API's body reader (admin/, audit/, alerts/, requests/, package/ routes): JSON checked
 * against a zod schema, every problem listed in one 400.
 */
import type { z } from 'zod';
import { RelayError } from '../errors/relay-error.js';

/** Parses a JSON body against a schema, listing every problem in one 400. */
export async function body<T>(read: () => Promise<unknown>, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await read();
  } catch {
    throw new RelayError('invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  const first = parsed.error.issues[0]?.path.join('.') || null;
  throw new RelayError('invalid_request', problems.join('; '), { param: first });
}

/**
 * Reading JSON that another party or a store wrote (a peer relay's message, a stored log entry):
 * parsed and checked against a schema in one step that never throws. Written five times by hand
 * before (a try around JSON.parse, then safeParse); one copy forgot the try.
 */
import type { z } from 'zod';

/** `text` as a value of `schema`, or undefined when it is not JSON or does not match. */
export function parseJsonAs<T>(schema: z.ZodType<T>, text: string): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

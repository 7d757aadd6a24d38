/** Checks a consumer request body against a zod schema: 400 naming the first offending field. */
import type { z } from 'zod';
import { RelayError } from '../errors/relay-error.js';

/** The parsed body, or a RelayError whose `param` is the first offending field (e.g. `messages[0].role`). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, at = ''): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // `at`: where `body` sits in the whole request (e.g. `input[2]`), for a part checked on its own.
  const param = issue.path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    at,
  );
  const where = param ? `'${param}'` : 'body';
  throw new RelayError('invalid_request', `Invalid value for ${where}: ${issue.message}`, {
    param: param || null,
  });
}

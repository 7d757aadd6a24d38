/**
 * A whole JSON answer written straight to the node response, as Hono's `c.json` gives it (JSON
 * text with its type and length): the fast path's answers, and an error that must be answered
 * where no Hono context exists (http/error-reply.ts `sendError`).
 */
import type { ServerResponse } from 'node:http';

/** Headers already set on `res` (x-request-id, rate limits) go out too; `headers` win over them. */
export function sendJson(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> | undefined,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The one place an error becomes an answer, for both request paths (Hono's `app.onError` and the
 * node fast path): the auth brake's bookkeeping, the log line, the headers and the body in the
 * shape of the route's API (error-shapes.ts). `sendError` writes one where no path's handler
 * is left to (an Exchange whose answer failed before its head went out).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type ErrorShape, errorResponse } from '../errors/error-shapes.js';
import { type RelayError, toRelayError } from '../errors/relay-error.js';
import type { AuthGuard } from '../security/auth-guard.js';
import { clientAddress } from './client-address.js';
import { sendJson } from './json-answer.js';

export type ErrorReply = { status: number; headers: Record<string, string>; body: unknown };

export type ErrorReplyDeps = { config: { trustProxy: boolean }; authGuard: AuthGuard };

/** What answers `thrown` (anything): status, headers beyond the JSON content type, and body. */
export function errorReply(
  deps: ErrorReplyDeps,
  thrown: unknown,
  req: IncomingMessage,
  log: Logger,
  shape: ErrorShape,
): ErrorReply {
  const error = toRelayError(thrown);
  if (
    error.code === 'invalid_api_key' ||
    error.code === 'invalid_admin_token' ||
    error.code === 'invalid_client_token'
  ) {
    deps.authGuard.failed(clientAddress(req, deps.config.trustProxy));
  }
  // Only the unexpected is an error with a stack: a routine refusal (no bridge ready, a bridge's
  // own 503, a timeout) is the relay working as meant, and says why in one line.
  if (error.code === 'internal_error') log.error({ err: thrown, code: error.code }, 'request failed');
  else if (error.status >= 500) {
    log.warn({ code: error.code, status: error.status, reason: error.message }, 'request failed');
  } else log.info({ code: error.code, status: error.status }, 'request refused');
  const headers = error.headers();
  // An unread (too large) body must not be drained: close the connection instead.
  if (error.code === 'request_too_large') headers.connection = 'close';
  const { status, body } = errorResponse(shape, error);
  return { status, headers, body };
}

/** Writes `error` as a whole JSON answer on a response whose head has not gone out. */
export function sendError(res: ServerResponse, error: RelayError, shape: ErrorShape = 'openai'): void {
  const { status, body } = errorResponse(shape, error);
  sendJson(res, status, error.headers(), body);
}

/**
 * What every request gets before anything else, on either path (the node fast path or Hono): an
 * id, sent back as `x-request-id` with whatever answer follows, and a child logger carrying it,
 * made on first use (a pino child costs a measurable share of a chat request, and at the usual
 * levels most requests never log).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { generateId } from '../store/secrets.js';

export type RequestScope = {
  requestId: string;
  /** The request's logger (a child with its request id), made on first call. */
  log: () => Logger;
};

export function beginRequest(logger: Logger, res: ServerResponse): RequestScope {
  const requestId = generateId('req');
  // On the node response, so that it goes out with every answer, streamed or not.
  res.setHeader('x-request-id', requestId);
  let log: Logger | undefined;
  return {
    requestId,
    log: () => {
      log ??= logger.child({ requestId });
      return log;
    },
  };
}

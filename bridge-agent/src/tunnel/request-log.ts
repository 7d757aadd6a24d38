/** The line the agent logs when a request finishes (every one with request logging, else failures). */
import type { OpenFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import type { RelayStream, StreamOutcome } from './relay-stream.js';

/** The model a request asked for, if it named one: v2 names it in the open; v1 carried the whole body, model inside. */
export function requestModel(open: OpenFrame): string | undefined {
  const model = open.model ?? (open.body as { model?: unknown } | undefined)?.model;
  return typeof model === 'string' ? model : undefined;
}

export function logFinished(
  logger: Logger,
  stream: RelayStream,
  outcome: StreamOutcome,
  open: OpenFrame,
): void {
  const model = requestModel(open);
  const log = logger.child({ streamId: stream.id });
  const line = {
    method: open.method,
    path: open.path,
    model,
    status: stream.status,
    outcome: outcome.kind,
    code: outcome.kind === 'failed' ? outcome.failure.code : undefined,
    bytes: stream.bytesOut,
    durationMs: Math.round(performance.now() - stream.startedAt),
  };
  if (outcome.kind === 'failed') {
    log.warn({ ...line, error: outcome.failure.message }, 'request failed');
  } else {
    log.info(line, 'request finished');
  }
}

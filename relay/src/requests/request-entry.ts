/**
 * One line of the request log, as `GET /api/requests` shows it: who asked what, who served it,
 * how it ended, attempt by attempt, with timings and sizes. Never the prompt or the answer: no
 * field here can hold them (the model names are the consumer's, cut and stripped of controls).
 * The schema bounds every field; entries from other relays are checked against it.
 */
import { stripControls, truncateChars } from '@arena-relay/shared';
import { z } from 'zod';
import { OUTCOME_CLASSES } from '../metrics/figures.js';
import type { AttemptRecord, RequestRecord } from '../proxy/observer.js';

/** The most attempts one entry lists (GATEWAY_RETRY_ATTEMPTS is at most 10: 11 attempts). */
export const MAX_ATTEMPTS = 16;
/** Model names are shown up to this many characters (the chat schema takes 256). */
const MAX_MODEL_CHARS = 256;

const MAX_ID_CHARS = 128;
const id = z.string().max(MAX_ID_CHARS);
const code = z.string().max(64);
const ms = z.number().min(0).max(1e10);

const attemptEntry = z.object({
  agent_id: id,
  client_id: id.nullable(),
  model: z.string().max(MAX_MODEL_CHARS),
  /** When it began, ms after the request started. */
  started_ms: ms,
  duration_ms: ms.nullable(),
  /** null: it served; else the agent's failure code or, for the last attempt, the request's outcome. */
  code: code.nullable(),
  /** The bridge's reason code (`cloudflare_challenge`, …), when the agent gave one. */
  reason: code.nullable(),
  upstream_status: z.number().int().min(0).max(999).nullable(),
});

export const requestEntry = z.object({
  /** The request's `x-request-id`. */
  id,
  /** The relay the consumer's request came in on. */
  relay: id,
  /** When it started, ISO 8601 UTC. */
  at: z.iso.datetime(),
  key_id: id,
  /** The bridge client and agent that served it, or last tried it. */
  client_id: id.nullable(),
  agent_id: id.nullable(),
  /** The model asked for, and the one whose bridge answered (an alias or a fallback names another). */
  model: z.string().max(MAX_MODEL_CHARS),
  model_served: z.string().max(MAX_MODEL_CHARS).nullable(),
  stream: z.boolean(),
  /** The HTTP status the consumer got (0: it left before any answer). */
  status: z.number().int().min(0).max(999),
  /** `ok`, `consumer_disconnected`, or the error code it failed with. */
  outcome: code,
  /** The error code the consumer was told (null when it succeeded or left). */
  error_code: code.nullable(),
  /**
   * What the outcome counts as (metrics/figures.ts): `ok`, `failed`, `consumer_error`,
   * `cancelled`. Absent from entries of an older relay.
   */
  result: z.enum(OUTCOME_CLASSES).optional(),
  attempts: z.array(attemptEntry).max(MAX_ATTEMPTS),
  ttfb_ms: ms.nullable(),
  duration_ms: ms,
  /** Answer bytes relayed to the consumer. */
  bytes: z.number().int().min(0),
});
export type RequestEntry = z.infer<typeof requestEntry>;

/** Printable ASCII: the usual model name, shown as it is. */
const PLAIN = /^[\x20-\x7e]*$/;

/** A model name as the log shows it: controls removed, at most MAX_MODEL_CHARS. */
function modelName(model: string): string {
  // Once per request: the three replaces of stripControls only for a name that needs them.
  if (model.length <= MAX_MODEL_CHARS && PLAIN.test(model)) return model;
  return truncateChars(stripControls(model), MAX_MODEL_CHARS);
}

/**
 * An id as the log keeps it. Agent and client ids of other relays' agents come from their adverts,
 * which are read from Redis unchecked: whatever they hold, the entry stays within its schema.
 */
function idOf(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length <= MAX_ID_CHARS ? text : truncateChars(text, MAX_ID_CHARS);
}

/** An HTTP status as the schema takes it: another relay's forwarded failure carries any integer. */
const httpStatus = (value: number | undefined) =>
  value !== undefined && Number.isInteger(value) && value >= 0 && value <= 999 ? value : null;

/** A code (a failure, a reason, an outcome): ours are short; a peer's are cut. */
const codeOf = (value: string) => (value.length <= 64 ? value : truncateChars(value, 64));

const idOrNull = (value: unknown) => (value === undefined || value === null ? null : idOf(value));

const rounded = (value: number | undefined) => (value === undefined ? null : Math.round(value));

function attemptOf(attempt: AttemptRecord) {
  return {
    agent_id: idOf(attempt.agentId),
    client_id: idOrNull(attempt.clientId),
    model: modelName(attempt.model),
    started_ms: Math.round(attempt.startMs),
    duration_ms: rounded(attempt.durationMs),
    code: attempt.code === undefined ? null : codeOf(attempt.code),
    reason: attempt.reason === undefined ? null : codeOf(attempt.reason),
    upstream_status: httpStatus(attempt.upstreamStatus),
  };
}

/** The log's line for a finished request on relay `relay`. */
export function entryOf(record: RequestRecord, relay: string): RequestEntry {
  const { outcome } = record;
  return {
    id: record.requestId,
    relay,
    at: record.startedAt.toISOString(),
    key_id: record.keyId,
    client_id: idOrNull(record.clientId),
    agent_id: idOrNull(record.agentId),
    model: modelName(record.modelAsked),
    model_served: record.modelServed === undefined ? null : modelName(record.modelServed),
    stream: record.stream,
    status: record.status,
    outcome,
    error_code: outcome === 'ok' || outcome === 'consumer_disconnected' ? null : outcome,
    result: record.result,
    attempts: record.tried.slice(0, MAX_ATTEMPTS).map(attemptOf),
    ttfb_ms: rounded(record.ttfbMs),
    duration_ms: Math.round(record.durationMs),
    bytes: record.bytes,
  };
}

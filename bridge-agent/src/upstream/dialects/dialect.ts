/**
 * One bridge dialect: everything the agent must know about one kind of bridge, in one shape
 * (base path, auth, readiness, how failures look streamed and not, keep-alives, limits). The
 * pumps and readiness ask the dialect; nothing else branches on which bridge it is.
 */
import type { UpstreamFailure } from '../classify.js';

export const DIALECT_NAMES = ['lmarenabridge-v2', 'lmarenabridge-cw', 'webai2api', 'openai'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/** What an `error` member of a bridge's JSON (an SSE event or a 200 body) looked like. */
export type ErrorObject = { message: string; type?: string; code?: string | number };

export type Dialect = {
  readonly name: DialectName;
  /** The path the bridge serves the relay's `/v1/…` under: `/v1` or `/api/v1`. */
  readonly apiPrefix: string;
  /** The port the bridge listens on by default (setup's suggestion, detection's hint). */
  readonly defaultPort: number;
  /** Streams the bridge serves at once by default: max_concurrency when the owner set none. */
  readonly concurrency: number;
  /** Longest prompt the bridge accepts, in characters; undefined: no known limit. */
  readonly promptLimitChars?: number;
  /**
   * Whether readiness may send the v2.7.6 serve probe (`POST chat/completions` with `[]`), which
   * asks a v2.7.6 bridge whether its tab is connected without reaching LMArena.
   */
  readonly serveProbe: boolean;
  /**
   * Bytes that, in an event stream after content flowed, can only start a failure: searched with
   * one `indexOf` per chunk. JSON escapes `"` inside strings, so `{"error"` never occurs in text.
   */
  readonly laterErrorMarker: Buffer;
  /**
   * A non-2xx answer; `detail` is the bridge's message (see `errorDetail`), `body` the text it was
   * read from (capped), for dialects whose bodies carry a named code beside the message.
   */
  classifyStatus(status: number, detail: string, retryAfter?: string, body?: string): UpstreamFailure;
  /** The `error` member of an SSE event or of a 200 body. `streamed` tells which. */
  classifyError(error: ErrorObject, streamed: boolean): UpstreamFailure;
  /** Text content that is a failure in disguise (v2.7.6's in-band prefix): its failure, else undefined. */
  contentFailure(content: string): UpstreamFailure | undefined;
};

/** `{"error": …}` as the bridges write it: an object with a message, or (Ollama) a bare string. */
export function errorObject(value: unknown): ErrorObject | undefined {
  if (typeof value === 'string') return { message: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const { message, type, code } = value as { message?: unknown; type?: unknown; code?: unknown };
  const error: ErrorObject = { message: typeof message === 'string' ? message : JSON.stringify(value) };
  if (typeof type === 'string') error.type = type;
  if (typeof code === 'string' || typeof code === 'number') error.code = code;
  return error;
}

/** The `{"error"` marker shared by every dialect whose failures are OpenAI-shaped events. */
export const JSON_ERROR_MARKER = Buffer.from('{"error"');

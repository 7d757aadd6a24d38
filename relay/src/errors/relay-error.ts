/**
 * The one error family of the relay. Each code has one row in ERRORS (HTTP status, OpenAI
 * `type`); `toRelayError` normalises anything thrown and `errorBody` builds the only wire shape.
 */
import { type OpenAIErrorBody, openAIError } from '@arena-relay/shared';

export const ERRORS = {
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  invalid_admin_token: { status: 401, type: 'invalid_request_error' },
  invalid_client_token: { status: 401, type: 'invalid_request_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  /** Longer than every bridge that serves the model takes (routing/prompt-limit.ts). */
  prompt_too_long: { status: 400, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'requests' },
  too_many_auth_failures: { status: 429, type: 'requests' },
  upstream_rejected: { status: 400, type: 'invalid_request_error' },
  upstream_error: { status: 502, type: 'api_error' },
  agent_unavailable: { status: 502, type: 'api_error' },
  no_agents_available: { status: 503, type: 'server_error' },
  upstream_unavailable: { status: 503, type: 'server_error' },
  timeout: { status: 504, type: 'timeout' },
  internal_error: { status: 500, type: 'server_error' },
  // An agent's upgrade refused (tunnel/agent-hub.ts); the code also goes out as the
  // x-arena-refusal header, which the agent reads before the body.
  /** The relay is draining or closing: the agent dials another relay, or again later. */
  shutting_down: { status: 503, type: 'server_error' },
  /** The agent did not offer the relay's WebSocket subprotocol. */
  unsupported_subprotocol: { status: 426, type: 'invalid_request_error' },
  /** A client token replaced and out of its grace period (TOKEN_ROTATED in shared/). */
  client_token_rotated: { status: 401, type: 'invalid_request_error' },
  client_disabled: { status: 401, type: 'invalid_request_error' },
  /** The client could not be looked up: the store is down. */
  store_unavailable: { status: 503, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type RelayErrorCode = keyof typeof ERRORS;

export type RelayErrorOptions = {
  param?: string | null;
  /** Overrides the table's status (e.g. an upstream 413 passed through as 413). */
  status?: number;
  /** Seconds, sent as `retry-after`. */
  retryAfter?: number;
  /** Sent as `x-should-retry` (the OpenAI SDKs honour it). */
  shouldRetry?: boolean;
  cause?: unknown;
};

export class RelayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly retryAfter: number | undefined;
  readonly shouldRetry: boolean | undefined;

  constructor(
    readonly code: RelayErrorCode,
    message: string,
    options: RelayErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RelayError';
    this.status = options.status ?? ERRORS[code].status;
    this.type = ERRORS[code].type;
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
    this.shouldRetry = options.shouldRetry;
  }

  /** The OpenAI error object for this error. */
  body(): OpenAIErrorBody {
    return openAIError(this.message, this.type, this.code, this.param);
  }

  /** Response headers this error carries (`retry-after`, `x-should-retry`). */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.retryAfter !== undefined) headers['retry-after'] = String(this.retryAfter);
    if (this.shouldRetry !== undefined) headers['x-should-retry'] = String(this.shouldRetry);
    return headers;
  }
}

/** Normalises anything thrown into a RelayError; unknown errors become a 500 without leaking details. */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError('internal_error', 'internal error', { cause: error });
}

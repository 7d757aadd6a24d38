/**
 * The wire shape of an error, per consumer API. The relay's codes, statuses and messages stay
 * those of `RelayError` (one table); only the body differs: OpenAI's `{"error":{message, type,
 * param, code}}` for the OpenAI routes (chat, images, models, responses), Anthropic's
 * `{"type":"error","error":{type, message}}` with Anthropic's own statuses for `/v1/messages`.
 */
import type { RelayError, RelayErrorCode } from './relay-error.js';

export type ErrorShape = 'openai' | 'anthropic';

/** Anthropic's error types and the status each is documented with. */
const ANTHROPIC = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
} as const;

type AnthropicType = keyof typeof ANTHROPIC;

/** Which Anthropic error type each relay code is. */
const ANTHROPIC_TYPE: Record<RelayErrorCode, AnthropicType> = {
  invalid_api_key: 'authentication_error',
  invalid_admin_token: 'authentication_error',
  invalid_client_token: 'authentication_error',
  permission_denied: 'permission_error',
  invalid_request: 'invalid_request_error',
  invalid_json: 'invalid_request_error',
  not_found: 'not_found_error',
  model_not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  prompt_too_long: 'invalid_request_error',
  conflict: 'invalid_request_error',
  rate_limit_exceeded: 'rate_limit_error',
  too_many_auth_failures: 'rate_limit_error',
  upstream_rejected: 'invalid_request_error',
  upstream_error: 'api_error',
  agent_unavailable: 'api_error',
  no_agents_available: 'overloaded_error',
  upstream_unavailable: 'overloaded_error',
  timeout: 'timeout_error',
  internal_error: 'api_error',
  shutting_down: 'overloaded_error',
  unsupported_subprotocol: 'invalid_request_error',
  client_token_rotated: 'authentication_error',
  client_disabled: 'authentication_error',
  store_unavailable: 'api_error',
};

export type AnthropicErrorBody = { type: 'error'; error: { type: AnthropicType; message: string } };

/** The Anthropic error type for `error` (an upstream 413 passed through is `request_too_large`). */
export function anthropicType(error: RelayError): AnthropicType {
  if (error.code === 'upstream_rejected' && error.status === 413) return 'request_too_large';
  return ANTHROPIC_TYPE[error.code];
}

/** Anthropic's error object, as a response body or as the data of a stream's `error` event. */
export function anthropicErrorBody(error: RelayError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicType(error), message: error.message } };
}

/**
 * The `error` of a failed Responses API `response` (the data of `response.failed`): OpenAI's
 * codes there are few; the relay's message says what happened.
 */
export function responsesError(error: RelayError): { code: string; message: string } {
  const code =
    error.code === 'rate_limit_exceeded'
      ? 'rate_limit_exceeded'
      : error.code === 'upstream_rejected' || error.code === 'prompt_too_long'
        ? 'invalid_prompt'
        : 'server_error';
  return { code, message: error.message };
}

/** Status and body of the response that reports `error` to a consumer of the given API. */
export function errorResponse(shape: ErrorShape, error: RelayError): { status: number; body: unknown } {
  if (shape === 'anthropic') {
    const type = anthropicType(error);
    // Anthropic's clients retry on the documented statuses only: use those, not the relay's 502/503.
    const status = type === 'invalid_request_error' ? error.status : ANTHROPIC[type];
    return { status, body: anthropicErrorBody(error) };
  }
  return { status: error.status, body: error.body() };
}

/**
 * Any OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM Studio): `/v1/chat/completions`
 * and `/v1/models`, real HTTP statuses, `{"error": …}` bodies (Ollama: a bare string). A home GPU
 * lent to the same pool.
 */
import { truncateChars } from '@arena-relay/shared';
import { bridgeWide, retryAfterMs, type UpstreamFailure } from '../classify.js';
import { type Dialect, type ErrorObject, JSON_ERROR_MARKER } from './dialect.js';

/** What an HTTP status means when the server uses statuses honestly. */
export function classifyHonestStatus(status: number, detail: string, retryAfter?: string): UpstreamFailure {
  const message = truncateChars(`bridge answered ${status}${detail ? `: ${detail}` : ''}`, 8192);
  if (status === 401 || status === 403) {
    return bridgeWide(
      'bridge_auth_failed',
      status,
      `${message}; check upstream_api_key / AGENT_UPSTREAM_API_KEY`,
    );
  }
  if (status === 429) return bridgeWide('upstream_rate_limited', status, message, retryAfterMs(retryAfter));
  // A model the server does not have (or has not loaded) is that model's trouble here: another
  // agent may serve it.
  if (status === 404) return { code: 'upstream_error', status, scope: 'model', message };
  // llama.cpp answers 503 while it loads its model; vLLM while it starts.
  if (status === 503) return bridgeWide('bridge_error', status, message);
  if (status === 408 || status === 504) return { code: 'upstream_timeout', status, scope: 'model', message };
  if (status >= 500) return { code: 'upstream_error', status, scope: 'model', message };
  return { code: 'upstream_rejected', status, scope: 'request', message };
}

/** An error event or 200-with-error body: the model failed on this server. */
function classifyError(error: ErrorObject): UpstreamFailure {
  const status = typeof error.code === 'number' && error.code >= 400 && error.code < 600 ? error.code : 502;
  if (status !== 502) return classifyHonestStatus(status, error.message);
  return { code: 'upstream_error', status, scope: 'model', message: truncateChars(error.message, 8192) };
}

export const openaiCompatible: Dialect = {
  name: 'openai',
  apiPrefix: '/v1',
  defaultPort: 11434,
  concurrency: 4,
  serveProbe: false,
  laterErrorMarker: JSON_ERROR_MARKER,
  classifyStatus: classifyHonestStatus,
  classifyError,
  contentFailure: () => undefined,
};

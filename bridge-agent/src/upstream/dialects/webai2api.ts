/**
 * foxhui/WebAI2API (`:3000`, `/v1/*` behind a Bearer token): OpenAI-shaped errors with honest
 * statuses and named codes (`BROWSER_NOT_INITIALIZED` 503, `SERVER_BUSY` 429, `RECAPTCHA` 403);
 * in a stream the error is a `data:` event then `[DONE]`; `:keepalive` comments while it waits.
 * From its code, not recorded.
 */
import { truncateChars } from '@arena-relay/shared';
import { bridgeWide, type UpstreamFailure } from '../classify.js';
import { type Dialect, type ErrorObject, JSON_ERROR_MARKER } from './dialect.js';
import { classifyHonestStatus } from './openai.js';

/** WebAI2API's named codes, found in a body's or an event's `error.code`. */
function byName(name: string, message: string, status?: number): UpstreamFailure | undefined {
  const text = truncateChars(message, 8192);
  switch (name.toUpperCase()) {
    case 'BROWSER_NOT_INITIALIZED':
      return bridgeWide('browser_not_ready', 503, text);
    case 'SERVER_BUSY':
      // Its one browser is taken: another agent can serve this now.
      return bridgeWide('upstream_rate_limited', 429, text, 2_000);
    case 'RECAPTCHA':
      return bridgeWide('recaptcha_failed', 403, text);
    default:
      return status === undefined ? undefined : classifyHonestStatus(status, message);
  }
}

/** The `code` WebAI2API put in an error body, read without trusting the body's shape. */
function codeIn(detail: string): string | undefined {
  return /"code"\s*:\s*"([A-Z_]{3,40})"/.exec(detail)?.[1];
}

function classifyError(error: ErrorObject): UpstreamFailure {
  if (typeof error.code === 'string') {
    const named = byName(error.code, error.message);
    if (named) return named;
  }
  return { code: 'upstream_error', status: 502, scope: 'model', message: truncateChars(error.message, 8192) };
}

export const webai2api: Dialect = {
  name: 'webai2api',
  apiPrefix: '/v1',
  defaultPort: 3000,
  // One browser: requests beyond one wait in its queue or are refused with SERVER_BUSY.
  concurrency: 1,
  serveProbe: false,
  laterErrorMarker: JSON_ERROR_MARKER,
  classifyStatus: (status, detail, retryAfter, body) => {
    const name = codeIn(body ?? detail);
    return (name && byName(name, detail, status)) || classifyHonestStatus(status, detail, retryAfter);
  },
  classifyError,
  contentFailure: () => undefined,
};

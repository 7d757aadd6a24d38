/**
 * CloudWaddie/LMArenaBridge (`:8000`, `/api/v1/*`, `sk-lmab-…` keys), as recorded in
 * shared/fixtures/cloudwaddie/: streams open with `: keep-alive` comments, failures are 200s (an
 * `{"error": {…, "code": <int>}}` event then `[DONE]`, or a 200 body with `"code": "http_403"`),
 * its own per-key rate limit is a real 429, a prompt over 113 567 characters a 400.
 */
import { truncateChars } from '@arena-relay/shared';
import { bridgeWide, retryAfterMs, type UpstreamFailure } from '../classify.js';
import { type Dialect, type ErrorObject, JSON_ERROR_MARKER } from './dialect.js';
import { classifyHonestStatus } from './openai.js';

/** Its prompt limit: 113 567 characters accepted, 113 568 refused (recorded). */
export const CW_PROMPT_LIMIT_CHARS = 113_567;

/** The status an in-band error stands for: `429` in a stream, `"http_429"` in a body. */
function statusOf(code: string | number | undefined): number | undefined {
  if (typeof code === 'number') return code;
  const match = /^http_(\d{3})$/.exec(code ?? '');
  return match ? Number(match[1]) : undefined;
}

/** An error CloudWaddie's bridge reported inside a 200 (its failures talking to LMArena). */
function classifyError(error: ErrorObject): UpstreamFailure {
  const message = truncateChars(error.message, 8192);
  const status = statusOf(error.code);
  if (status === 429 || error.type === 'rate_limit_error') {
    return bridgeWide('upstream_rate_limited', 429, message, retryInText(message));
  }
  if (status === 401 || error.type === 'authentication_error')
    return bridgeWide('auth_token_expired', 401, message);
  if (status === 403 || error.type === 'recaptcha_error' || error.type === 'forbidden_error') {
    // Its streamed "Forbidden (403) from upstream. Retries exhausted." names neither cause.
    if (/recaptcha/i.test(message)) return bridgeWide('recaptcha_failed', 403, message);
    if (/just a moment|cloudflare|cf-chl|challenge-platform/i.test(message)) {
      return bridgeWide('cloudflare_challenge', 403, message);
    }
    return bridgeWide('arena_forbidden', 403, message);
  }
  if (status === 504 || error.code === 'request_timeout') {
    return { code: 'upstream_timeout', status: 504, scope: 'model', message };
  }
  // `Unexpected error: …` (its own exception, e.g. a busy worker): the bridge, for a moment.
  if (/^Unexpected error:/.test(error.message)) return bridgeWide('bridge_error', 502, message);
  // No content after retries, "model unavailable", LMArena's 5xx: this model on this bridge.
  return { code: 'upstream_error', status: 502, scope: 'model', message };
}

/** The rate-limit wait LMArena named in the message, if any; else the readiness hold applies. */
function retryInText(message: string): number | undefined {
  const match = /(?:retry|try again) in (\d{1,5}) ?s/i.exec(message);
  return match ? retryAfterMs(match[1]) : undefined;
}

function classifyStatus(status: number, detail: string, retryAfter?: string): UpstreamFailure {
  const message = truncateChars(`bridge answered ${status}${detail ? `: ${detail}` : ''}`, 8192);
  // Its reCAPTCHA minting failed before anything reached LMArena: no chat can be served.
  if (status === 503 && /recaptcha/i.test(detail)) return bridgeWide('recaptcha_mint_failed', 503, message);
  // "You do not have access to stealth models": this model, not the key.
  if (status === 403 && /stealth/i.test(detail))
    return { code: 'upstream_error', status, scope: 'model', message };
  return classifyHonestStatus(status, detail, retryAfter);
}

export const lmarenabridgeCw: Dialect = {
  name: 'lmarenabridge-cw',
  apiPrefix: '/api/v1',
  defaultPort: 8000,
  // One browser worker: requests are served one after another.
  concurrency: 1,
  promptLimitChars: CW_PROMPT_LIMIT_CHARS,
  serveProbe: false,
  laterErrorMarker: JSON_ERROR_MARKER,
  classifyStatus,
  classifyError,
  contentFailure: () => undefined,
};

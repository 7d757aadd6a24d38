/**
 * What a consumer is told about its limits, the way OpenAI tells it: `x-ratelimit-*` headers on
 * every answer, and a 429 `rate_limit_exceeded` error with `retry-after` on a refusal.
 */
import { RelayError } from '../errors/relay-error.js';
import type { LimitName, LimitSnapshot, LimitSpec, WindowState } from './limiter.js';

/** A duration as OpenAI writes its reset headers (Go's notation): `250ms`, `1s`, `6m0s`, `1h2m3.5s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${Number(((total % 60_000) / 1000).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/**
 * The window the requests headers describe: the one with the fewest requests left (the minute
 * on a tie), since that is the one a consumer will hit first.
 */
function bindingWindow(snapshot: LimitSnapshot): WindowState | undefined {
  const { minute, day } = snapshot;
  if (minute && day) return day.remaining < minute.remaining ? day : minute;
  return minute ?? day;
}

/**
 * `x-ratelimit-{limit,remaining,reset}-requests` when the scope has a requests window, and the
 * `-tokens` trio when it has `tokens_per_day`. Empty when neither is set (a key limited only by
 * `max_concurrency` has no window to describe).
 */
export function rateLimitHeaders(snapshot: LimitSnapshot): Record<string, string> {
  const headers: Record<string, string> = {};
  const requests = bindingWindow(snapshot);
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(requests.remaining);
    headers['x-ratelimit-reset-requests'] = formatDuration(requests.resetMs);
  }
  const { tokens } = snapshot;
  if (tokens) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining);
    headers['x-ratelimit-reset-tokens'] = formatDuration(tokens.resetMs);
  }
  return headers;
}

const LABELS: Record<LimitName, string> = {
  requests_per_minute: 'requests per minute (RPM)',
  requests_per_day: 'requests per day (RPD)',
  max_concurrency: 'concurrent requests',
  tokens_per_day: 'tokens per day (TPD)',
};

const LIMIT_OF: Record<LimitName, keyof LimitSpec> = {
  requests_per_minute: 'requestsPerMinute',
  requests_per_day: 'requestsPerDay',
  max_concurrency: 'maxConcurrency',
  tokens_per_day: 'tokensPerDay',
};

/** The 429 for a refusal: OpenAI's wording, `retry-after` in whole seconds (at least 1). */
export function refusalError(
  who: 'API key' | 'bridge',
  spec: LimitSpec,
  refusedBy: readonly LimitName[],
  retryAfterMs: number,
): RelayError {
  const first = refusedBy[0] ?? 'requests_per_minute';
  const limit = spec[LIMIT_OF[first]];
  return new RelayError(
    'rate_limit_exceeded',
    `Rate limit reached for ${LABELS[first]} on this ${who}: limit ${limit}. ` +
      `Please try again in ${formatDuration(retryAfterMs)}.`,
    { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) },
  );
}

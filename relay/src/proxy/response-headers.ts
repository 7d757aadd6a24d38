/**
 * Headers the consumer gets. The agent's headers are not trusted: only an allowlisted
 * content-type passes, and only when it is short and carries no control characters (a long one
 * would overflow the consumer's header limit: undici refuses heads over 16 KiB).
 */
const SAFE_VALUE = /^[\t\x20-\x7e]{1,256}$/;

/** Builds the consumer's response headers from the agent's `head`. */
export function consumerHeaders(
  agentHeaders: Record<string, string>,
  options: { stream: boolean; requestId: string; extra?: Record<string, string> },
): Record<string, string> {
  const offered = agentHeaders['content-type'];
  const safeType = offered !== undefined && SAFE_VALUE.test(offered) ? offered : undefined;
  const headers: Record<string, string> = options.stream
    ? {
        'content-type': safeType?.startsWith('text/event-stream')
          ? safeType
          : 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      }
    : { 'content-type': safeType ?? 'application/json' };
  headers['x-request-id'] = options.requestId;
  return options.extra ? { ...headers, ...options.extra } : headers;
}

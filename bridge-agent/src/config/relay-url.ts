/**
 * Turns the configured `platform_url` (http, https, ws or wss) into the WebSocket address the
 * agent dials: same host and port, any path prefix kept, `/agent/connect` appended.
 */
import { AGENT_CONNECT_PATH } from '@arena-relay/shared';

const SCHEMES: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

/**
 * Returns the `ws(s)://host[:port][/prefix]/agent/connect` address for `platformUrl`, or a
 * problem description (a string starting with "must") when it cannot be used.
 */
export function toConnectUrl(platformUrl: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(platformUrl);
  } catch {
    return { problem: 'must be an absolute http(s) or ws(s) URL' };
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) return { problem: `must be an http(s) or ws(s) URL, not ${url.protocol}` };
  if (url.username || url.password)
    return { problem: 'must not carry credentials; put the token in api_key' };
  if (url.search || url.hash) return { problem: 'must not have a query string or fragment' };
  const prefix = url.pathname.replace(/\/+$/, '');
  const path = prefix.endsWith(AGENT_CONNECT_PATH) ? prefix : `${prefix}${AGENT_CONNECT_PATH}`;
  return { url: `${scheme}//${url.host}${path}` };
}

/** Validates the bridge address: plain http(s), no query; returned without a trailing slash. */
export function normaliseUpstreamUrl(upstreamUrl: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    return { problem: 'must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `must be an http(s) URL, not ${url.protocol}` };
  }
  if (url.search || url.hash) return { problem: 'must not have a query string or fragment' };
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

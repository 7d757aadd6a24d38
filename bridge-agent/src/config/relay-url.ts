/**
 * Turns the configured `platform_url` (http, https, ws or wss) into the WebSocket address the
 * agent dials: same host and port, any path prefix kept, `/agent/connect` appended.
 */
import { AGENT_CONNECT_PATH } from '@arena-relay/shared';

const SCHEMES: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

/** `text` as a URL of one of `schemes` (`kind` names them in the problem), or the problem. */
function parseAddress(text: string, kind: string, schemes: readonly string[]): URL | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `must be an absolute ${kind} URL` };
  }
  if (!schemes.includes(url.protocol)) return { problem: `must be an ${kind} URL, not ${url.protocol}` };
  return url;
}

/**
 * Returns the `ws(s)://host[:port][/prefix]/agent/connect` address for `platformUrl`, or a
 * problem description (a string starting with "must") when it cannot be used.
 */
export function toConnectUrl(platformUrl: string): { url: string } | { problem: string } {
  const url = parseAddress(platformUrl, 'http(s) or ws(s)', Object.keys(SCHEMES));
  if (!(url instanceof URL)) return url;
  if (url.username || url.password)
    return { problem: 'must not carry credentials; put the token in api_key' };
  if (url.search || url.hash) return { problem: 'must not have a query string or fragment' };
  const prefix = url.pathname.replace(/\/+$/, '');
  const path = prefix.endsWith(AGENT_CONNECT_PATH) ? prefix : `${prefix}${AGENT_CONNECT_PATH}`;
  return { url: `${SCHEMES[url.protocol]}//${url.host}${path}` };
}

/** Validates the bridge address: plain http(s), no query; returned without a trailing slash. */
export function normaliseUpstreamUrl(upstreamUrl: string): { url: string } | { problem: string } {
  const url = parseAddress(upstreamUrl, 'http(s)', ['http:', 'https:']);
  if (!(url instanceof URL)) return url;
  if (url.search || url.hash) return { problem: 'must not have a query string or fragment' };
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

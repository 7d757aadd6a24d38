/**
 * The address a request came from: the socket's, or with TRUST_PROXY the LAST X-Forwarded-For
 * entry — the one our own proxy added. Earlier entries are whatever the client sent and could be
 * forged to dodge per-address limits. Assumes exactly one trusted proxy in front of the relay.
 */
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const joined = Array.isArray(header) ? header.join(',') : header;
    const last = joined?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

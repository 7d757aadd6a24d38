/**
 * The agent's WebSocket handshake, authenticated before any upgrade: a bad token gets an HTTP
 * 401 (and no socket), a missing subprotocol a 426. Runs on the raw `upgrade` event. A refusal is
 * a RelayError like any other (its status, type and code from the one table), written by hand:
 * the socket has no HTTP response object yet.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { REFUSAL_HEADER, SUBPROTOCOL } from '@arena-relay/shared';
import type { RelayError } from '../errors/relay-error.js';

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Writes `error` as a small JSON HTTP answer on a not-yet-upgraded socket and closes it. */
export function refuseUpgrade(socket: Duplex, error: RelayError): void {
  if (socket.destroyed) return;
  const { status, code } = error;
  const body = JSON.stringify(error.body());
  let extra = status === 426 ? `Sec-WebSocket-Protocol: ${SUBPROTOCOL}\r\nUpgrade: websocket\r\n` : '';
  extra += `${REFUSAL_HEADER}: ${code}\r\n`;
  if (error.retryAfter !== undefined) extra += `Retry-After: ${error.retryAfter}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** The bearer token of an upgrade request, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** True when the client offered the relay's subprotocol. */
export function offersSubprotocol(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return false;
  return header.split(',').some((p) => p.trim() === SUBPROTOCOL);
}

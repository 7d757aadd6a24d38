/**
 * The agent's WebSocket handshake, authenticated before any upgrade: a bad token gets an HTTP
 * 401 (and no socket), a missing subprotocol a 426. Runs on the raw `upgrade` event.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { openAIError, REFUSAL_HEADER, SUBPROTOCOL } from '@arena-relay/shared';

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Writes a small JSON HTTP answer on a not-yet-upgraded socket and closes it. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  code: string,
  retryAfter?: number,
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(openAIError(message, 'invalid_request_error', code));
  let extra = status === 426 ? `Sec-WebSocket-Protocol: ${SUBPROTOCOL}\r\nUpgrade: websocket\r\n` : '';
  extra += `${REFUSAL_HEADER}: ${code}\r\n`;
  if (retryAfter !== undefined) extra += `Retry-After: ${retryAfter}\r\n`;
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

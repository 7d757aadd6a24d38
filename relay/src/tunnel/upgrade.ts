/**
 * The agent's WebSocket handshake, authenticated before any upgrade: who may become an agent
 * session (the path, a relay still taking agents, the subprotocol, the auth brake, a client token
 * that is known and not retired, an enabled client), and how the others are refused — a bad
 * token gets an HTTP 401 (and no socket), a missing subprotocol a 426. Runs on the raw `upgrade`
 * event. A refusal is a RelayError like any other (its status, type and code from the one table),
 * written by hand: the socket has no HTTP response object yet.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_CONNECT_PATH, REFUSAL_HEADER, SUBPROTOCOL, TOKEN_ROTATED } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { RelayError, type RelayErrorCode } from '../errors/relay-error.js';
import type { AuthGuard } from '../security/auth-guard.js';
import { hashSecret } from '../store/secrets.js';
import { type ClientTokenMatch, type Store, tokenAccepted } from '../store/store.js';
import { TOKEN_ROTATED_REASON } from './token-retirement.js';

/** What the check needs of the hub: the token lookup, the auth brake, the address it brakes. */
export type UpgradeGate = {
  store: Pick<Store, 'findClientToken'>;
  /** Brakes addresses that keep presenting bad tokens. */
  authGuard?: AuthGuard | undefined;
  remoteAddress(req: IncomingMessage): string;
  logger: Logger;
};

/** An upgrade that may go ahead: the token's client (and when a replaced token retires), and its hash. */
export type AdmittedUpgrade = ClientTokenMatch & { tokenHash: string };

/**
 * Checks an agent's upgrade request; refuses it on the socket (404/503/426/429/401) and resolves
 * undefined when it may not go ahead. `leaving`: the relay is shutting down. Never rejects.
 */
export async function admitUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  gate: UpgradeGate,
  leaving: boolean,
): Promise<AdmittedUpgrade | undefined> {
  const refuse = (code: RelayErrorCode, message: string, retryAfter?: number) => {
    refuseUpgrade(socket, new RelayError(code, message, { retryAfter }));
    return undefined;
  };
  const path = (req.url ?? '').split('?')[0];
  if (path !== AGENT_CONNECT_PATH) return refuse('not_found', 'not found');
  if (leaving) return refuse('shutting_down', 'relay is shutting down');
  if (!offersSubprotocol(req))
    return refuse('unsupported_subprotocol', `subprotocol ${SUBPROTOCOL} required`);
  const address = gate.remoteAddress(req);
  const wait = gate.authGuard?.retryAfter(address) ?? 0;
  if (wait > 0) {
    return refuse('too_many_auth_failures', 'too many failed authentication attempts; slow down', wait);
  }
  const token = bearerToken(req);
  if (!token) {
    gate.authGuard?.failed(address);
    return refuse('invalid_client_token', 'missing client token');
  }
  const tokenHash = hashSecret(token);
  let match: ClientTokenMatch | undefined;
  try {
    match = await gate.store.findClientToken(tokenHash);
  } catch (error) {
    gate.logger.error({ err: error }, 'client lookup failed during upgrade');
    return refuse('store_unavailable', 'relay store unavailable');
  }
  if (!match) {
    gate.authGuard?.failed(address);
    return refuse('invalid_client_token', 'invalid client token');
  }
  if (!tokenAccepted(match)) {
    gate.authGuard?.failed(address);
    return refuse(TOKEN_ROTATED, TOKEN_ROTATED_REASON);
  }
  if (match.client.status === 'disabled') return refuse('client_disabled', 'client is disabled');
  return { ...match, tokenHash };
}

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

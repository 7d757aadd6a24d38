/** Attempts an agent WebSocket upgrade and reports what the relay answered, without keeping a socket. */
import { AGENT_CONNECT_PATH, SUBPROTOCOL } from '@arena-relay/shared';
import { WebSocket } from 'ws';

export type UpgradeAnswer = { status: number; retryAfter: string | undefined };

/** 101 when the upgrade was accepted (the socket is closed at once), else the HTTP status. */
export function upgradeAnswer(
  relayUrl: string,
  headers: Record<string, string>,
  protocol: string | undefined = SUBPROTOCOL,
): Promise<UpgradeAnswer> {
  return new Promise((resolve) => {
    const ws = new WebSocket(
      relayUrl.replace(/^http/, 'ws') + AGENT_CONNECT_PATH,
      protocol ? [protocol] : [],
      {
        headers,
      },
    );
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, retryAfter: undefined });
    });
    ws.on('error', () => undefined);
  });
}

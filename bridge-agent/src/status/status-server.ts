/**
 * The agent's local status server, bound to 127.0.0.1 only: `/health`, `/platform/status`,
 * `/stats` as JSON. It shows no secret; the token never appears in any answer.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LinkStatus } from '../tunnel/link-pool.js';
import type { HubStats } from '../tunnel/stream-hub.js';

/** `/platform/status`. */
export type PlatformStatus = {
  connected: boolean;
  relay_url: string;
  client_id: string | null;
  session_id: string | null;
  /** ISO time of the relay's last ping. */
  last_heartbeat: string | null;
  reconnects: number;
  ready: boolean;
  ready_reason: string | null;
  max_concurrency: number;
  /** Every socket to a relay, going-away ones included; `slots` is its share of max_concurrency. */
  connections: ConnectionStatus[];
};

/** One socket to a relay, as `/platform/status` lists it. */
export type ConnectionStatus = LinkStatus & { slots: number; in_flight: number };

/** `/stats`: the stream hub's counters and when the agent started. */
export type AgentStats = HubStats & { started_at: string };

export type StatusSource = { status(): PlatformStatus; stats(): AgentStats };

export type StatusServer = {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
};

const HOST = '127.0.0.1';

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Starts the server on `port` (0 = any free port). Rejects when the port cannot be bound. */
export function startStatusServer(port: number, source: StatusSource): Promise<StatusServer> {
  const routes = new Map<string, () => unknown>([
    ['/health', () => ({ status: 'ok', connected: source.status().connected })],
    ['/platform/status', () => source.status()],
    ['/stats', () => source.stats()],
  ]);
  const server = createServer((request, response) => {
    const route = routes.get((request.url ?? '/').split('?')[0]!);
    if (!route) return reply(response, 404, { error: 'not found' });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return reply(response, 405, { error: 'method not allowed' });
    }
    reply(response, 200, route());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      const { port: bound } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${HOST}:${bound}`,
        close: () => {
          closing ??= new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

/**
 * The agent's local status server, bound to 127.0.0.1 only: `/health`, `/platform/status`,
 * `/stats` as JSON, and `/` as a small HTML page for the bridge's owner. It shows no secret; the
 * token never appears in any answer. It answers only requests addressed to it by a loopback name
 * (`Host`): a web page whose own name was rebound to 127.0.0.1 (DNS rebinding) would otherwise
 * read relay addresses and session ids from `/platform/status` in the owner's browser.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BridgeReasonCode } from '@arena-relay/shared';
import type { AgentSettings } from '../config/pushed-settings.js';
import type { LinkStatus } from '../tunnel/link-pool.js';
import type { HubStats } from '../tunnel/stream-hub.js';
import type { ServedStatus } from './served-tally.js';
import { statusPage } from './status-page.js';

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
  /** Why the bridge is not serving, as a stable code (see shared/src/bridge-reasons.ts); null when ready. */
  ready_code: BridgeReasonCode | null;
  /** What the owner can do about `ready_code`, in plain words. */
  ready_fix: string | null;
  /** The same in Chinese (for owners of LMArenaBridge v2.7.6, whose bridge writes Chinese). */
  ready_fix_zh: string | null;
  /** ISO time before which the agent will not try the bridge again (LMArena's retry-after). */
  retry_at: string | null;
  max_concurrency: number;
  /** The bridge dialect in use (`lmarenabridge-cw`, …). */
  bridge: string;
  /** What the owner set: `auto` or a dialect. */
  bridge_setting: string;
  /** Why `auto` chose it (what the bridge answered); null when set by the owner or not detected. */
  bridge_evidence: string | null;
  /** The bridge's prompt limit in characters, when its dialect has one. */
  prompt_limit_chars: number | null;
  /** The settings a relay may push, each with its value and source (local / relay / default). */
  settings?: ReturnType<AgentSettings['sources']>;
  /** Every socket to a relay, going-away ones included; `slots` is its share of max_concurrency. */
  connections: ConnectionStatus[];
  /** What the bridge served: requests, failures by reason, models, the last errors (status/served-tally.ts). */
  served: ServedStatus;
  /** The log file this run writes (`arena-agent.log` beside config.jsonc under a service); absent when none. */
  log_file?: string;
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

function page(response: ServerResponse, html: string): void {
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // Nothing on the page loads anything: say so, so an injected tag could not either.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  });
  response.end(html);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // Model names and the bridge's words are in it: never sniffed into a page.
    'x-content-type-options': 'nosniff',
  });
  response.end(text);
}

/** The `Host` values this server answers: its own port under a loopback name. */
function loopbackHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** Starts the server on `port` (0 = any free port). Rejects when the port cannot be bound. */
export function startStatusServer(port: number, source: StatusSource): Promise<StatusServer> {
  const routes = new Map<string, () => unknown>([
    ['/health', () => ({ status: 'ok', connected: source.status().connected })],
    ['/platform/status', () => source.status()],
    ['/stats', () => source.stats()],
  ]);
  // Set once the port is bound (port 0 picks one); no request is answered before that.
  let hosts: ReadonlySet<string> = new Set();
  const server = createServer((request, response) => {
    // Host names are case-insensitive; anything else (a rebound name, none) is not for us.
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
      return reply(response, 421, { error: 'misdirected request: use http://127.0.0.1:<port>/' });
    }
    const path = (request.url ?? '/').split('?')[0]!;
    const route = routes.get(path);
    if (!route && path !== '/') return reply(response, 404, { error: 'not found' });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return reply(response, 405, { error: 'method not allowed' });
    }
    if (!route) return page(response, statusPage(source.status()));
    reply(response, 200, route());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      const { port: bound } = server.address() as AddressInfo;
      hosts = loopbackHosts(bound);
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

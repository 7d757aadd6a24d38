/**
 * The relay's HTTP(S) server: node's server with the slow-client limits (slowloris) and the
 * per-address connection cap, the request listener it is given (app.ts `requestListener`: every
 * consumer request enters there) and the agents' upgrade path, listening on the configured
 * address.
 */
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RelayConfig } from '../config/load-config.js';
import { capConnectionsPerAddress } from '../security/connection-cap.js';

export type ServerConfig = Pick<
  RelayConfig,
  'host' | 'port' | 'tls' | 'headersTimeoutMs' | 'trustProxy' | 'maxConnectionsPerAddress'
>;

/** A listening server and the `http(s)://host:port` it answers on. */
export type Listening = { server: Server; url: string; port: number };

/** Starts the server; resolves once it listens (rejects when it cannot, e.g. the port is taken). */
export async function listenHttp(
  config: ServerConfig,
  listener: RequestListener,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<Listening> {
  // Slowloris: a client must send its headers within headersTimeout and its whole request within
  // requestTimeout (responses may stream far longer). Checked every second.
  const slowClientLimits = {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: Math.max(config.headersTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
  };
  const server: Server = config.tls
    ? createHttpsServer(
        {
          ...slowClientLimits,
          cert: readFileSync(config.tls.certFile),
          key: readFileSync(config.tls.keyFile),
        },
        listener,
      )
    : createHttpServer(slowClientLimits, listener);
  if (!config.trustProxy) capConnectionsPerAddress(server, config.maxConnectionsPerAddress);
  server.on('upgrade', onUpgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const scheme = config.tls ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { server, url: `${scheme}://${host}:${port}`, port };
}

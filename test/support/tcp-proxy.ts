/**
 * A loopback TCP proxy that can freeze its live connections — stop forwarding without closing
 * either side — to make a half-open link. New connections after a freeze flow normally.
 */
import net from 'node:net';
import { track } from './cleanup.js';

export type TcpProxy = {
  url: string;
  /** Connections currently proxied (frozen ones included). */
  readonly connections: number;
  freeze(): void;
  close(): Promise<void>;
};

/**
 * `idleTimeoutMs`: a connection with no byte either way for that long is closed, as load
 * balancers do (nginx's proxy_read_timeout, a cloud LB's idle timeout).
 */
export async function startTcpProxy(
  target: { host: string; port: number },
  options: { idleTimeoutMs?: number } = {},
): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    if (options.idleTimeoutMs) client.setTimeout(options.idleTimeoutMs, drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return track({
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    freeze() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/**
 * A loopback TCP balancer, as an operator puts in front of several relays: each connection goes
 * to the next target in rotation, and to the one after when a target refuses the connection (a
 * relay between its exit and its successor's start), as nginx's `proxy_next_upstream` does.
 */
export async function startTcpBalancer(targets: Array<{ host: string; port: number }>): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const attempt = (left: number) => {
      const target = targets[next++ % targets.length]!;
      const upstream = net.connect(target.port, target.host);
      upstream.once('error', () => (left > 1 ? attempt(left - 1) : client.destroy()));
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(targets.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return track({
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

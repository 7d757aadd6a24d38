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

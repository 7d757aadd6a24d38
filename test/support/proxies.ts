/**
 * Real forward proxies for the suite, on 127.0.0.1 port 0: an HTTP CONNECT proxy (RFC 9110 §9.3.6)
 * and a SOCKS5 server (RFC 1928, user/password auth RFC 1929), CONNECT only. Each dials out from
 * 127.0.0.2, so the relay sees the proxy's address rather than the agent's, and resolves the names
 * in `hosts` itself: an agent can reach `relay.test` only through the proxy.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** The address the proxies dial out from (loopback, but not the agent's 127.0.0.1). */
export const PROXY_EGRESS = '127.0.0.2';

export type ProxyOptions = {
  /** When set, clients must give these (Proxy-Authorization Basic, or SOCKS5 user/password). */
  auth?: { user: string; pass: string };
  /** Names the proxy resolves itself; any other host is dialled as given. */
  hosts?: Record<string, string>;
};

export type TestProxy = {
  /** `http://127.0.0.1:port` or `socks5h://127.0.0.1:port` (no credentials). */
  url: string;
  port: number;
  /** `host:port` of every tunnel opened, in order. */
  tunnels: string[];
  /** Clients refused for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
};

async function listen(server: Server, scheme: string, sockets: Set<Socket>): Promise<TestProxy> {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    tunnels: [],
    refused: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Dials `host:port`, lets `answer` reply to the client, then joins the two (the pipe resumes the client). */
function tunnel(
  client: Socket,
  host: string,
  port: number,
  options: ProxyOptions,
  answer: (ok: boolean) => void,
) {
  const upstream = tcpConnect({ host: options.hosts?.[host] ?? host, port, localAddress: PROXY_EGRESS });
  upstream.once('connect', () => {
    answer(true);
    upstream.pipe(client).pipe(upstream);
  });
  upstream.once('error', () => {
    answer(false);
    client.destroy();
  });
  client.once('close', () => upstream.destroy());
}

/** An HTTP proxy that opens CONNECT tunnels (and answers anything else 405). */
export async function startConnectProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > 16_384) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const [line = '', ...fields] = head.slice(0, end).split('\r\n');
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      const [method, target = ''] = line.split(' ');
      if (method !== 'CONNECT') {
        client.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      if (options.auth) {
        const expected = Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64');
        const given = fields.find((f) => /^proxy-authorization:/i.test(f))?.replace(/^[^:]*:\s*/, '');
        if (given?.replace(/^basic\s+/i, '') !== expected) {
          proxy.refused++;
          client.end(
            'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
          );
          return;
        }
      }
      const colon = target.lastIndexOf(':');
      const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
      proxy.tunnels.push(target);
      tunnel(client, host, Number(target.slice(colon + 1)), options, (ok) => {
        if (!ok) {
          client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
          return;
        }
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (rest.length > 0) client.unshift(rest);
      });
    };
    client.on('data', onData);
  });
  const proxy = await listen(server, 'http', sockets);
  return proxy;
}

/** Reads exactly `n` bytes from a paused socket. */
async function read(socket: Socket, n: number): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(n) as Buffer | null;
    if (chunk) return chunk;
    if (socket.destroyed || socket.readableEnded) throw new Error('closed');
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
}

/** A SOCKS5 server: no auth, or user/password when `auth` is set; CONNECT to IPv4 or a name. */
export async function startSocks5Proxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    client.pause();
    void (async () => {
      const [version = 0, count = 0] = await read(client, 2);
      const methods = [...(await read(client, count))];
      const wanted = options.auth ? 0x02 : 0x00;
      if (version !== 5 || !methods.includes(wanted)) {
        if (options.auth) proxy.refused++;
        client.end(Buffer.from([5, 0xff]));
        return;
      }
      client.write(Buffer.from([5, wanted]));
      if (options.auth) {
        const [, userLength = 0] = await read(client, 2);
        const user = (await read(client, userLength)).toString();
        const [passLength = 0] = await read(client, 1);
        const pass = (await read(client, passLength)).toString();
        const good = user === options.auth.user && pass === options.auth.pass;
        if (!good) proxy.refused++;
        client.write(Buffer.from([1, good ? 0 : 1]));
        if (!good) {
          client.end();
          return;
        }
      }
      const [, command, , type] = await read(client, 4);
      let host: string;
      if (type === 0x01) host = [...(await read(client, 4))].join('.');
      else if (type === 0x03) host = (await read(client, (await read(client, 1))[0]!)).toString();
      else {
        client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
        return;
      }
      const port = (await read(client, 2)).readUInt16BE(0);
      if (command !== 0x01) {
        client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
        return;
      }
      proxy.tunnels.push(`${host}:${port}`);
      tunnel(client, host, port, options, (ok) => {
        client.write(Buffer.from([5, ok ? 0 : 5, 0, 1, 0, 0, 0, 0, 0, 0]));
      });
    })().catch(() => client.destroy());
  });
  const proxy = await listen(server, 'socks5h', sockets);
  return proxy;
}

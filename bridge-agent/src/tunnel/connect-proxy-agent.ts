/**
 * An `http.Agent` (on `agent-base`) that opens each connection as an HTTP CONNECT tunnel through a
 * proxy, then runs TLS to the relay inside it for wss://. Written here rather than taken from
 * `https-proxy-agent` because the proxy's answer must be bounded: that library buffers the answer
 * without limit and without a deadline, so a proxy that accepts and says nothing held the agent's
 * dial forever (no reconnect), and one that streams bytes grew memory until it stopped.
 * Here the answer head is capped at MAX_PROXY_HEAD_BYTES and the tunnel must open within
 * `timeoutMs`; a refusal (407, 502…) is an error carrying the proxy's status.
 */
import type { ClientRequest } from 'node:http';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { Agent, type AgentConnectOpts } from 'agent-base';

/** Largest CONNECT answer head taken from a proxy, in bytes. */
export const MAX_PROXY_HEAD_BYTES = 16 * 1024;

/** The proxy answered CONNECT with something other than 200. */
export class ProxyRefusedError extends Error {
  override readonly name = 'ProxyRefusedError';
  constructor(
    readonly statusCode: number,
    statusText: string,
  ) {
    super(`the proxy answered CONNECT with ${statusCode}${statusText ? ` ${statusText}` : ''}`);
  }
}

/** A failure to open the tunnel, with a Node-style `code` for the words in relay-proxy.ts. */
function tunnelError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Sends CONNECT on `socket` and resolves once the proxy answered 200 (bytes after it are kept). */
function openTunnel(socket: Socket, target: string, authorization: string | undefined, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', done).off('close', onClose);
      // Held until the HTTP client takes the socket: without a 'data' listener bytes would be lost.
      socket.pause();
      if (error) reject(error);
      else resolve();
    };
    const onClose = () =>
      done(tunnelError('the proxy closed the connection before answering CONNECT', 'ECONNRESET'));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_HEAD_BYTES)
          done(tunnelError('the proxy sent an answer without end', 'EPROTO'));
        return;
      }
      const line = head.subarray(0, Math.min(end, 512)).toString('latin1').split('\r\n')[0] ?? '';
      const match = /^HTTP\/1\.[01] (\d{3}) ?([^\r\n]*)$/.exec(line);
      if (!match) return done(tunnelError('the proxy does not speak HTTP CONNECT', 'EPROTO'));
      const status = Number(match[1]);
      if (status !== 200) return done(new ProxyRefusedError(status, match[2]!.slice(0, 100)));
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      done();
    };
    const timer = setTimeout(
      () => done(tunnelError(`the proxy did not open the tunnel within ${timeoutMs / 1000} s`, 'ETIMEDOUT')),
      timeoutMs,
    );
    socket.on('data', onData).once('error', done).once('close', onClose);
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
    if (authorization) lines.push(`Proxy-Authorization: ${authorization}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

export class ConnectProxyAgent extends Agent {
  readonly #proxy: URL;
  readonly #timeoutMs: number;

  constructor(proxy: URL, timeoutMs: number) {
    super();
    this.#proxy = proxy;
    this.#timeoutMs = timeoutMs;
  }

  override async connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Duplex> {
    const proxy = this.#proxy;
    const host = proxy.hostname.replace(/^\[|\]$/g, '');
    const port = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
    const socket =
      proxy.protocol === 'https:'
        ? tlsConnect({
            host,
            port,
            ...(isIP(host) === 0 && { servername: host }),
            ALPNProtocols: ['http/1.1'],
          })
        : tcpConnect({ host, port });
    const target = isIP(opts.host ?? '') === 6 ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    const authorization =
      user || pass ? `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` : undefined;
    try {
      await openTunnel(socket, target, authorization, this.#timeoutMs);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    if (!opts.secureEndpoint) {
      req.once('socket', (taken: Socket) => taken.resume());
      return socket;
    }
    // The relay's TLS runs inside the tunnel, with the dial's own options (ca, servername).
    const {
      host: relayHost,
      port: _port,
      path: _path,
      ...tls
    } = opts as ConnectionOptions & { path?: string };
    const servername = tls.servername ?? (isIP(relayHost ?? '') === 0 ? relayHost : undefined);
    return tlsConnect({ ...tls, socket, ...(servername && { servername }) });
  }
}

/**
 * The agent's connections to a relay through a proxy: an `http.Agent` for the WebSocket (`ws`
 * takes one), an undici dispatcher for the agent's HTTP calls to the relay (the bundle download),
 * and plain words for what went wrong on the way. HTTP CONNECT proxies go through
 * connect-proxy-agent.ts and undici's `ProxyAgent`; SOCKS through `socks-proxy-agent` and `socks`.
 * Either way the relay's TLS (and its `--ca`) runs end to end inside the tunnel: the proxy sees
 * only the relay's host and port.
 */

import { lookup } from 'node:dns/promises';
import type { ClientRequest, Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AgentConnectOpts } from 'agent-base';
import { SocksClient } from 'socks';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { type Dispatcher, ProxyAgent, Agent as UndiciAgent } from 'undici';
import type { ChosenProxy } from '../config/proxy-url.js';
import { ConnectProxyAgent, ProxyRefusedError } from './connect-proxy-agent.js';

/** How long a proxy may take to open the tunnel by default, in ms. */
export const PROXY_CONNECT_TIMEOUT_MS = 15_000;

const isSocks = (proxy: ChosenProxy) => proxy.url.protocol.startsWith('socks');

/**
 * The `agent` for one `ws` dial through `proxy`; TLS options (`ca`) come with each dial. The proxy
 * must open the tunnel within `timeoutMs` (default PROXY_CONNECT_TIMEOUT_MS).
 */
export function proxyAgent(proxy: ChosenProxy, timeoutMs = PROXY_CONNECT_TIMEOUT_MS): HttpAgent {
  if (isSocks(proxy)) return new DeadlineSocksAgent(proxy.url, timeoutMs);
  return new ConnectProxyAgent(proxy.url, timeoutMs);
}

/**
 * socks-proxy-agent with a deadline on opening the tunnel. Not its `timeout` option: that one is
 * also an idle timeout on the open tunnel, and would cut a WebSocket quiet between two heartbeats.
 * A tunnel that opens after the deadline is closed at once (`socks` gives up by itself at 30 s).
 */
class DeadlineSocksAgent extends SocksProxyAgent {
  readonly #timeoutMs: number;

  constructor(url: URL, timeoutMs: number) {
    super(url);
    this.#timeoutMs = timeoutMs;
  }

  override connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Socket> {
    const opening = super.connect(req, opts);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void opening.then(
          (late) => late.destroy(),
          () => undefined,
        );
        const seconds = this.#timeoutMs / 1000;
        reject(
          Object.assign(new Error(`the proxy did not open the tunnel within ${seconds} s`), {
            code: 'ETIMEDOUT',
          }),
        );
      }, this.#timeoutMs);
    });
    return Promise.race([opening, deadline]).finally(() => clearTimeout(timer));
  }
}

/** An undici dispatcher that reaches the relay through `proxy`, trusting `ca` for the relay. */
export function proxyDispatcher(proxy: ChosenProxy, ca: string[] | undefined): Dispatcher {
  if (!isSocks(proxy)) {
    return new ProxyAgent({ uri: proxy.url.href, ...(ca && { requestTls: { ca } }) });
  }
  // undici's own SOCKS agent is experimental (and warns); `socks` is what socks-proxy-agent uses.
  const parsed = new SocksProxyAgent(proxy.url);
  return new UndiciAgent({
    connect: (options, callback) => {
      const { hostname, protocol, servername } = options;
      const port = Number(options.port) || (protocol === 'https:' ? 443 : 80);
      const host = hostname.replace(/^\[|\]$/g, '');
      void (async () => {
        const destination = parsed.shouldLookup ? (await lookup(host)).address : host;
        const { socket } = await SocksClient.createConnection({
          proxy: parsed.proxy,
          destination: { host: destination, port },
          command: 'connect',
          timeout: PROXY_CONNECT_TIMEOUT_MS,
        });
        if (protocol !== 'https:') return callback(null, socket);
        const secure = tlsConnect({ socket, servername: servername ?? host, ...(ca && { ca }) });
        secure.once('secureConnect', () => callback(null, secure));
        secure.once('error', (error) => {
          socket.destroy();
          callback(error, null);
        });
      })().catch((error: Error) => callback(error, null));
    },
  });
}

/** Connection errors that, with a proxy in the way, can only be about reaching the proxy. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * What a failed dial through `proxy` means, in words an owner can act on, or undefined when the
 * error is not about the proxy. Only the masked proxy address is quoted.
 */
export function describeProxyError(error: Error, proxy: ChosenProxy): string | undefined {
  if (error instanceof ProxyRefusedError) return describeProxyStatus(error.statusCode, proxy);
  const code = (error as NodeJS.ErrnoException).code;
  const where = `the proxy ${proxy.shown} (from ${proxy.source})`;
  if (/^the proxy /.test(error.message)) return `${where}: ${error.message.slice('the proxy '.length)}`;
  if (code !== undefined && UNREACHABLE.has(code)) {
    return `cannot reach ${where} (${code}): check the proxy address, or that the proxy runs`;
  }
  // `socks` throws errors whose message names the protocol and says what the proxy answered.
  if (/\bsocks[45]?\b/i.test(error.message)) {
    if (/no accepted authentication/i.test(error.message)) {
      return `${where} asks for credentials (${error.message}): add the user and password to the proxy URL as user:password@ before its host`;
    }
    if (/auth/i.test(error.message)) {
      return `${where} refused the credentials (${error.message}): check the user and password in the proxy URL`;
    }
    return `${where} could not open the tunnel (${error.message})`;
  }
  return undefined;
}

/** What a proxy's refusal of CONNECT means. */
export function describeProxyStatus(status: number, proxy: ChosenProxy): string {
  const where = `the proxy ${proxy.shown} (from ${proxy.source})`;
  if (status === 407) {
    return `${where} asks for credentials (407): add the user and password to the proxy URL as user:password@ before its host`;
  }
  return `${where} refused the tunnel to the relay (${status}): it cannot reach the relay, or does not allow it`;
}

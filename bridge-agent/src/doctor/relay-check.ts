/**
 * `doctor`'s look at one relay: one WebSocket upgrade, as the agent makes it, tells whether the
 * relay answers, what its TLS certificate is worth, and whether it takes the token (the relay
 * refuses a bad one with HTTP 401 before upgrading). No hello is sent: the socket is closed at once.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SUBPROTOCOL, TOKEN_ROTATED, tokenIdOfHash } from '@arena-relay/shared';
import { WebSocket } from 'ws';
import type { ChosenProxy } from '../config/proxy-url.js';
import { describeProxyError, proxyAgent } from '../tunnel/relay-proxy.js';
import { describeCertificateError, trustedCas } from '../tunnel/relay-tls.js';
import { errorCode } from '../upstream/classify.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

/** How long the relay may take to answer the upgrade, in ms. */
export const RELAY_CHECK_TIMEOUT_MS = 10_000;
/** A certificate closer than this to its end is worth a warning, in ms (14 days). */
export const CERT_WARN_MS = 14 * 24 * 3600 * 1000;

type Outcome =
  | { kind: 'open'; tls?: TLSSocket }
  | { kind: 'refused'; status: number; code?: string; message?: string; tls?: TLSSocket }
  | { kind: 'error'; error: Error };

export type RelayCheckInput = {
  url: string;
  token: string;
  caFile?: string;
  /** The proxy the agent would dial this relay through (config/proxy-url.ts proxyFor). */
  proxy?: ChosenProxy;
  timeoutMs?: number;
  /** For the expiry warning; default now. */
  now?: Date;
};

function tlsOf(res: IncomingMessage): TLSSocket | undefined {
  const socket = res.socket as TLSSocket | null;
  return socket && typeof socket.getPeerCertificate === 'function' ? socket : undefined;
}

/** The relay's `{"error":{"code","message"}}` refusal body, read up to 8 KiB. */
function readRefusal(res: IncomingMessage): Promise<{ code?: string; message?: string }> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < 8192) text += chunk;
    });
    res.on('error', () => resolve({}));
    res.on('end', () => {
      try {
        const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
        resolve({
          code: typeof error?.code === 'string' ? error.code : undefined,
          message: typeof error?.message === 'string' ? error.message : undefined,
        });
      } catch {
        resolve({});
      }
    });
  });
}

function upgrade(input: RelayCheckInput): Promise<Outcome> {
  return new Promise((resolve) => {
    const ca = trustedCas(input.caFile);
    const ws = new WebSocket(input.url, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${input.token}` },
      ...(ca && { ca }),
      ...(input.proxy && { agent: proxyAgent(input.proxy, input.timeoutMs ?? RELAY_CHECK_TIMEOUT_MS) }),
      perMessageDeflate: false,
      handshakeTimeout: input.timeoutMs ?? RELAY_CHECK_TIMEOUT_MS,
    });
    let tls: TLSSocket | undefined;
    ws.on('upgrade', (res) => {
      tls = tlsOf(res);
    });
    ws.on('open', () => {
      resolve({ kind: 'open', tls });
      ws.close(1000, 'doctor');
    });
    ws.on('unexpected-response', (_req, res) => {
      void readRefusal(res).then((body) => {
        resolve({ kind: 'refused', status: res.statusCode ?? 0, ...body, tls: tlsOf(res) });
        ws.terminate();
      });
    });
    ws.on('error', (error) => resolve({ kind: 'error', error }));
  });
}

/** Why the relay could not be reached at all, in words. */
function unreachable(url: URL, error: Error): CheckLine {
  const what = `relay ${url.host}`;
  const code = errorCode(error);
  const where = `${url.hostname}:${url.port || (url.protocol === 'wss:' ? 443 : 80)}`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(
        what,
        `the name ${url.hostname} does not resolve (${code})`,
        "check platform_url in config.jsonc and this machine's internet connection",
      );
    case 'ECONNREFUSED':
      return fail(
        what,
        `nothing accepts connections at ${where} (ECONNREFUSED)`,
        'check platform_url (host and port) and that the relay is running',
      );
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return fail(
        what,
        `${where} does not speak TLS (${code})`,
        "use an http:// platform_url for a relay without TLS, or the relay's TLS port",
      );
  }
  if (/handshake has timed out/i.test(error.message) || code === 'ETIMEDOUT') {
    return fail(
      what,
      `no answer from ${where} in time`,
      'check platform_url, firewalls and proxies between this machine and the relay',
    );
  }
  return fail(
    what,
    `cannot connect to ${where}: ${code ?? error.message}`,
    'check platform_url and the network',
  );
}

function certificateLine(tls: TLSSocket, host: string, now: Date): CheckLine {
  const cert = tls.getPeerCertificate();
  const until = new Date(cert.valid_to);
  const issuer = cert.issuer?.CN ?? cert.issuer?.O ?? 'an unnamed issuer';
  const detail = `valid for ${host} until ${until.toISOString().slice(0, 10)}, issued by ${issuer}`;
  if (until.getTime() - now.getTime() < CERT_WARN_MS) {
    return warn(
      'relay certificate',
      `${detail}: it ends within 14 days`,
      "renew the relay's certificate before then",
    );
  }
  return ok('relay certificate', detail);
}

/** What the relay's refusal of the upgrade means for the owner. */
function refusalLine(status: number, code: string | undefined, message: string | undefined): CheckLine {
  const said = `${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  if (status === 401 && code === 'client_disabled') {
    return fail(
      'token',
      `the relay knows the token but the client is disabled (${said})`,
      "ask the relay's operator to enable this client",
    );
  }
  if (status === 401 && code === TOKEN_ROTATED) {
    return fail(
      'token',
      `the relay says it was replaced (a newer package was downloaded, or it was rotated) and its grace period is over (${said})`,
      'install the newest client package from the relay, or put its api_key in config.jsonc',
    );
  }
  if (status === 401 || status === 403) {
    return fail(
      'token',
      `the relay refused it (${said})`,
      'download the client package again from the relay (each download issues a new token and retires the old one) and use its config.jsonc',
    );
  }
  if (status === 429) {
    return warn(
      'token',
      `not checked: the relay is slowing down failed log-ins from this address (${said})`,
      'wait a minute and run doctor again',
    );
  }
  if (status === 426) {
    return fail(
      'relay protocol',
      `the relay does not speak ${SUBPROTOCOL} (${said})`,
      'download the current client package from the relay',
    );
  }
  if (status === 404) {
    return fail(
      'relay address',
      `no relay agent endpoint at this address (${said})`,
      'check platform_url, including any path prefix',
    );
  }
  return fail(
    'relay',
    `the relay answered the upgrade with HTTP ${said}`,
    "try again later; if it persists, tell the relay's operator",
  );
}

/** What to do about a proxy that is in the way. */
export const PROXY_FIX =
  'check proxy_url / AGENT_PROXY_URL or HTTPS_PROXY / ALL_PROXY (scheme, host, port, user and password), or unset it if this network needs no proxy';

/** The proxy's own failure (unreachable, refusing CONNECT or the credentials), when `outcome` is one. */
function proxyFailure(outcome: Outcome, proxy: ChosenProxy): CheckLine | undefined {
  if (outcome.kind !== 'error') return undefined;
  const said = describeProxyError(outcome.error, proxy);
  return said ? fail('proxy', said, PROXY_FIX) : undefined;
}

/** Proxy (when one is used), reachability, certificate (wss only) and token lines for one relay connect URL. */
export async function checkRelay(input: RelayCheckInput): Promise<CheckLine[]> {
  const outcome = await upgrade(input);
  if (!input.proxy) return relayLines(input, outcome);
  const failure = proxyFailure(outcome, input.proxy);
  if (failure) return [failure];
  const through = ok(
    'proxy',
    `${input.proxy.shown} (from ${input.proxy.source}): the relay answers through it`,
  );
  return [through, ...relayLines(input, outcome)];
}

function relayLines(input: RelayCheckInput, outcome: Outcome): CheckLine[] {
  const url = new URL(input.url);
  if (outcome.kind === 'error') {
    const certificate = describeCertificateError(outcome.error, input.url, input.caFile);
    if (!certificate) return [unreachable(url, outcome.error)];
    // describeCertificateError says "<what is wrong> (<CODE>): <what to do>".
    const cut = certificate.indexOf('): ') + 1;
    return [
      ok(`relay ${url.host}`, 'answers'),
      fail('relay certificate', certificate.slice(0, cut), certificate.slice(cut + 2)),
    ];
  }
  const lines = [ok(`relay ${url.host}`, `answers at ${input.url}`)];
  if (outcome.tls) lines.push(certificateLine(outcome.tls, url.hostname, input.now ?? new Date()));
  const token =
    outcome.kind === 'open'
      ? ok('token', 'accepted by the relay')
      : refusalLine(outcome.status, outcome.code, outcome.message);
  // Which token this is, by its id (the package README names the one it holds), never the secret.
  if (token.what === 'token') token.detail += ` [${tokenIdOfHash(hash('sha256', input.token, 'hex'))}]`;
  lines.push(token);
  return lines;
}

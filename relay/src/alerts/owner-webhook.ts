/**
 * One POST to a bridge owner's webhook, behind the SSRF guard (ssrf-guard.ts). The name is resolved
 * by our own `lookup` hook, which refuses the connection when any address it resolves to is not
 * public, and the socket is connected to exactly the address checked (no second resolution a DNS
 * rebinding could change). An IP literal, which `net` dials without a lookup, is judged before the
 * socket opens; and before a byte is written the socket's remote address is checked once more.
 * Redirects are not followed, the whole exchange is bounded in time, and nothing of the answer is
 * read but its status.
 */
import { promises as dns, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { SendResult } from './senders.js';
import { nonPublicReason, type OwnerWebhookPolicy, webhookShapeProblem } from './ssrf-guard.js';

/** Resolves a host name to every address it has (tests stand in a resolver that lies). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

export type OwnerWebhookContext = OwnerWebhookPolicy & { resolve?: Resolve | undefined };

const systemResolve: Resolve = (host) => dns.lookup(host, { all: true, verbatim: true });

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

class Refused extends Error {
  readonly code = 'ssrf_refused';
}

/** POSTs `body` to the owner's `url`; never throws. */
export function postToOwner(
  url: string,
  body: string,
  headers: Record<string, string>,
  context: OwnerWebhookContext,
  timeoutMs: number,
): Promise<SendResult> {
  // Only the shape here: every address, literal or resolved, is judged when it is connected to.
  const problem = webhookShapeProblem(url, context);
  if (problem) return Promise.resolve({ ok: false, error: `refused: ${problem}` });
  const target = new URL(url);
  const resolve = context.resolve ?? systemResolve;
  const judge = (address: string) => (context.allowPrivate ? undefined : nonPublicReason(address));
  // An IP literal is dialled without a lookup: judged before the socket is even opened.
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  const early = isIP(literal) ? judge(literal) : undefined;
  if (early) return Promise.resolve({ ok: false, error: `refused: ${early}` });

  const lookup = (host: string, options: { all?: boolean }, callback: LookupCallback) => {
    resolve(host).then(
      (addresses) => {
        const bad = addresses.map((a) => judge(a.address)).find(Boolean);
        const first = addresses[0];
        if (bad || !first) {
          callback(new Refused(`refused: ${host} resolves to a non-public address (${bad ?? 'none'})`), '');
        } else if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };

  return new Promise((settle) => {
    let done = false;
    const finish = (result: SendResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      settle(result);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      agent: false,
      lookup: lookup as never,
      maxHeaderSize: 8192,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'arena-relay-alerts',
        ...headers,
      },
    });
    const timer = setTimeout(() => finish({ ok: false, error: `no answer in ${timeoutMs} ms` }), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, error: error instanceof Refused ? error.message : (error.code ?? error.message) }),
    );
    req.on('socket', (socket: Socket) => {
      const connected = () => {
        const bad = judge(socket.remoteAddress ?? '');
        if (bad) finish({ ok: false, error: `refused: connected to ${bad}` });
        else req.end(body);
      };
      if (socket.remoteAddress) connected();
      else socket.once('connect', connected);
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // Only the status matters: the body is never read, whatever its size.
      res.destroy();
      if (status >= 200 && status < 300) finish({ ok: true, status });
      else if (status >= 300 && status < 400)
        finish({ ok: false, status, error: `HTTP ${status}: redirects are not followed` });
      else finish({ ok: false, status, error: `HTTP ${status}` });
    });
  });
}

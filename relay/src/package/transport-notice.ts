/**
 * What a client package's relay address says about how its agent will connect, said on the
 * download (an `X-Package-Warning` header, which the dashboard shows, and a log line) and in the
 * package's README: a plain `http://` address sends the client token, prompts and answers across
 * the network in clear; a loopback address is unreachable from any other machine. Both happen
 * quietly when the relay runs without PUBLIC_URL or TLS and the dashboard is opened on localhost.
 */
import { isLoopbackHost } from '@arena-relay/shared';

export const PACKAGE_WARNING_HEADER = 'x-package-warning';

export type TransportNotice = {
  code: 'plain_http' | 'loopback';
  /** One sentence in ASCII (it travels in a header): the problem and the operator's fix. */
  text: string;
};

const PLAIN: TransportNotice = {
  code: 'plain_http',
  text:
    'This package dials the relay over plain http (no TLS): its client token, every prompt and every answer cross the network in clear. ' +
    'Serve TLS (TLS_CERT_FILE and TLS_KEY_FILE, or a TLS proxy with an https PUBLIC_URL) and download the package again.',
};

const LOOPBACK: TransportNotice = {
  code: 'loopback',
  text:
    "This package's relay address is loopback (localhost, 127.0.0.1 or ::1): an agent on any other machine cannot reach it. " +
    'Set PUBLIC_URL to the address bridge owners can reach (or open the dashboard there) and download the package again.',
};

/** The notices for a package whose agent dials `relayUrl` (an http(s) URL); empty when all is well. */
export function transportNotices(relayUrl: string): TransportNotice[] {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    // PUBLIC_URL is checked only for its scheme: an address URL cannot parse has nothing to flag.
    return [];
  }
  const notices: TransportNotice[] = [];
  if (url.protocol === 'http:') notices.push(PLAIN);
  if (isLoopbackHost(url.hostname)) notices.push(LOOPBACK);
  return notices;
}

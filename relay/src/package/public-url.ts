/**
 * The address agents should dial, as written into client packages: PUBLIC_URL when set, else the
 * scheme and host the operator's request came in on — `X-Forwarded-Proto`/`X-Forwarded-Host`
 * only with TRUST_PROXY (a TLS-terminating proxy in front), since anyone can send those headers.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type PublicUrlInput = {
  publicUrl: string | undefined;
  trustProxy: boolean;
  /** The relay serves TLS itself. */
  tls: boolean;
  headers: IncomingHttpHeaders;
};

/** A host[:port] and nothing else: it ends up in a config file. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}

/** `http(s)://host[:port][/prefix]` without a trailing slash, or undefined when the request names no usable host. */
export function publicUrl(input: PublicUrlInput): string | undefined {
  if (input.publicUrl) return input.publicUrl.replace(/\/+$/, '');
  const forwardedProto = input.trustProxy
    ? first(input.headers['x-forwarded-proto'])?.toLowerCase()
    : undefined;
  const proto =
    forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : input.tls ? 'https' : 'http';
  const host =
    (input.trustProxy ? first(input.headers['x-forwarded-host']) : undefined) ?? input.headers.host;
  if (!host || !HOST.test(host)) return undefined;
  return `${proto}://${host}`;
}

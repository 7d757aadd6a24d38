/**
 * What an owner's webhook may be and reach. A bridge owner — a stranger to the operator — gives
 * this URL, and the relay POSTs to it from inside the operator's network: without a guard it is a
 * way to reach the relay's loopback, the LAN, or a cloud's metadata service (SSRF). So the URL is
 * `https://` only (unless ALERT_OWNER_WEBHOOK_ALLOW_HTTP), bounded, credential-free, and every
 * address the relay would connect to must be public unicast: checked when the URL is written (IP
 * literals, `localhost`) and again at connect time on the address actually dialled (owner-webhook.ts),
 * so a name that resolves elsewhere later (DNS rebinding) cannot slip past.
 */
import { isIP } from 'node:net';

/** The longest owner webhook URL taken, characters. */
export const OWNER_WEBHOOK_URL_MAX = 2048;

export type OwnerWebhookPolicy = {
  /** Plain `http://` accepted (labs, tests). */
  allowHttp: boolean;
  /** Loopback, private and the other non-public ranges accepted (labs, tests). */
  allowPrivate: boolean;
};

type Range = readonly [base: number, bits: number];
const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** IPv4 ranges that are not the public internet (RFC 6890 and friends). */
const BLOCKED_V4: readonly Range[] = [
  [v4(0, 0, 0, 0), 8], // "this network", 0.0.0.0
  [v4(10, 0, 0, 0), 8], // RFC 1918
  [v4(100, 64, 0, 0), 10], // CGNAT
  [v4(127, 0, 0, 0), 8], // loopback
  [v4(169, 254, 0, 0), 16], // link-local: cloud metadata lives here
  [v4(172, 16, 0, 0), 12], // RFC 1918
  [v4(192, 0, 0, 0), 24], // IETF protocol assignments
  [v4(192, 0, 2, 0), 24], // documentation
  [v4(192, 168, 0, 0), 16], // RFC 1918
  [v4(198, 18, 0, 0), 15], // benchmarking
  [v4(198, 51, 100, 0), 24], // documentation
  [v4(203, 0, 113, 0), 24], // documentation
  [v4(224, 0, 0, 0), 4], // multicast
  [v4(240, 0, 0, 0), 4], // reserved, and 255.255.255.255
];

function inRange(value: number, [base, bits]: Range): boolean {
  const mask = bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
  return (value & mask) >>> 0 === base;
}

function parseV4(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return v4(parts[0]!, parts[1]!, parts[2]!, parts[3]!);
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function parseV6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const value = parseV4(dotted[1]!);
    if (value === undefined) return undefined;
    address = `${address.slice(0, -dotted[1]!.length)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}

const embeddedV4 = (g: number[], at: number) => ((g[at]! << 16) | g[at + 1]!) >>> 0;

/**
 * Why `address` (an IP literal) is not a public unicast address, in words; undefined when it is.
 * IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms are judged by the IPv4 address they carry.
 */
export function nonPublicReason(address: string): string | undefined {
  const family = isIP(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (family === 4) {
    const value = parseV4(address)!;
    return BLOCKED_V4.some((r) => inRange(value, r)) ? `${address} is not a public address` : undefined;
  }
  const g = family === 6 ? parseV6(address) : undefined;
  if (!g) return `${address} is not an IP address`;
  const words = `${address} is not a public address`;
  const zeroes = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, :: and ::1 among them).
  if (zeroes(5) && (g[5] === 0xffff || g[5] === 0)) {
    if (g[5] === 0 && g[6] === 0 && g[7]! <= 1) return words; // :: unspecified, ::1 loopback
    return nonPublicReason(v4Text(embeddedV4(g, 6))) && words;
  }
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    // 64:ff9b::/96 carries an IPv4 address; 64:ff9b:1::/48 is local-use NAT64.
    if (g[2] === 1) return words;
    return nonPublicReason(v4Text(embeddedV4(g, 6))) && words;
  }
  if (g[0] === 0x2002) return nonPublicReason(v4Text(embeddedV4(g, 1))) && words; // 6to4
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return words; // fc00::/7 unique-local
  if ((first & 0xffc0) === 0xfe80) return words; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return words; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return words; // ff00::/8 multicast
  if (first === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) return words; // Teredo, documentation
  if (first === 0x100 && zeroes(4)) return words; // 100::/64 discard
  if (first === 0) return words; // the rest of ::/8: reserved
  return undefined;
}

const v4Text = (value: number) => [24, 16, 8, 0].map((s) => (value >>> s) & 0xff).join('.');

/** A host name that always means this machine (RFC 6761). */
const LOCAL_NAME = /(^|\.)localhost\.?$/i;

/** Why `url` is not the shape of an owner webhook (scheme, length, credentials); undefined when it is. */
export function webhookShapeProblem(url: string, policy: OwnerWebhookPolicy): string | undefined {
  if (url.length > OWNER_WEBHOOK_URL_MAX) return `must be at most ${OWNER_WEBHOOK_URL_MAX} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.protocol !== 'https:' && !(policy.allowHttp && parsed.protocol === 'http:'))
    return policy.allowHttp ? 'must be an http:// or https:// URL' : 'must be an https:// URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  return undefined;
}

/**
 * Why an owner may not store `url` as a webhook, in words for a 400; undefined when they may. What
 * the URL itself says is judged (its shape, an IP literal, `localhost`); names are resolved and
 * judged at connect time, every time.
 */
export function ownerWebhookUrlProblem(url: string, policy: OwnerWebhookPolicy): string | undefined {
  const shape = webhookShapeProblem(url, policy);
  if (shape || policy.allowPrivate) return shape;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (LOCAL_NAME.test(host)) return `${host} is this machine, not a public address`;
  return isIP(host) ? nonPublicReason(host) : undefined;
}

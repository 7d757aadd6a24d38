/**
 * Which proxy, if any, the agent dials a relay through: `proxy_url` (AGENT_PROXY_URL, --proxy)
 * when set, else the usual environment variables (`https_proxy`/`HTTPS_PROXY` for wss://,
 * `http_proxy`/`HTTP_PROXY` for ws://, then `all_proxy`/`ALL_PROXY`, minus `no_proxy`/`NO_PROXY`).
 * A loopback relay is never proxied: nothing leaves the machine. The local bridge never is either
 * (nothing here is asked about it). A proxy URL may carry credentials: only `shown` (credentials
 * masked) may reach a log, a status page or a support bundle.
 */
import { isLoopbackHost } from '@arena-relay/shared';

/** The proxy kinds the agent speaks: HTTP CONNECT (plain or over TLS) and SOCKS 4/4a/5. */
export const PROXY_SCHEMES = [
  'http:',
  'https:',
  'socks:',
  'socks4:',
  'socks4a:',
  'socks5:',
  'socks5h:',
] as const;

/** The environment variables read, lowercase first (curl's order). */
export const PROXY_ENV_NAMES = [
  'https_proxy',
  'HTTPS_PROXY',
  'http_proxy',
  'HTTP_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
] as const;

export type ProxyEnv = Partial<Record<(typeof PROXY_ENV_NAMES)[number], string>>;

/** A chosen proxy: its URL (credentials included: never log it), where it came from, and how to show it. */
export type ChosenProxy = { url: URL; source: string; shown: string };

/** The proxy variables among `env` (empty ones dropped), for `AgentConfig.proxyEnv`. */
export function proxyEnvOf(env: Record<string, string | undefined>): ProxyEnv {
  const picked: ProxyEnv = {};
  for (const name of PROXY_ENV_NAMES) {
    const value = env[name]?.trim();
    if (value) picked[name] = value;
  }
  return picked;
}

/**
 * Validates a proxy address; a bare `host:port` means `http://host:port` (as curl reads it).
 * Returns the URL text or a problem (starting with "must"); the problem never quotes the value,
 * which may hold a password.
 */
export function parseProxyUrl(value: string): { url: string } | { problem: string } {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'must be a proxy URL such as http://proxy:3128 or socks5://proxy:1080' };
  }
  if (!(PROXY_SCHEMES as readonly string[]).includes(url.protocol)) {
    return { problem: `must be an http, https, socks4 or socks5 proxy URL, not ${url.protocol}` };
  }
  if (url.hostname === '') return { problem: 'must name the proxy host' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { problem: 'must be only scheme://[user:password@]host:port, without a path' };
  }
  return { url: url.href };
}

/** `scheme://host:port` with any user and password replaced by `***`: safe to log. */
export function redactProxyUrl(url: URL): string {
  const credentials = url.username || url.password ? '***@' : '';
  return `${url.protocol}//${credentials}${url.host}`;
}

/** True when `no_proxy` exempts `target` (`*`, a host, a `.domain` or `*.domain`, optionally `:port`). */
function exempt(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'wss:' || target.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''))!;
    const name = match[1]!.replace(/^\*?\./, '');
    if (match[2] && match[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The proxy for dialling `target` (a relay's `ws(s)://` or `http(s)://` address), or undefined
 * for a direct connection. `explicit` (proxy_url) wins over the environment and ignores no_proxy.
 * An unusable environment value is ignored here; `loadConfig` reports it.
 */
export function proxyFor(
  target: string,
  explicit: string | undefined,
  env: ProxyEnv = {},
): ChosenProxy | undefined {
  const url = new URL(target);
  if (isLoopbackHost(url.hostname)) return undefined;
  if (explicit !== undefined) return chosen(explicit, 'proxy_url');
  if (exempt(url, env.no_proxy ?? env.NO_PROXY)) return undefined;
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const names = secure
    ? (['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] as const)
    : (['http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'] as const);
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) return chosen(value, name);
  }
  return undefined;
}

function chosen(value: string, source: string): ChosenProxy | undefined {
  const parsed = parseProxyUrl(value);
  if (!('url' in parsed)) return undefined;
  const url = new URL(parsed.url);
  return { url, source, shown: redactProxyUrl(url) };
}

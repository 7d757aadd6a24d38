/**
 * The agent's settings: one table naming where each one may come from (file key, environment
 * variable, flag) and one zod schema that coerces, defaults and validates the merged values.
 */
import { z } from 'zod';
import { type ProxyEnv, parseProxyUrl } from './proxy-url.js';
import { normaliseUpstreamUrl, toConnectUrl } from './relay-url.js';

/** Where a setting can be given. `file` is a dotted path into config.jsonc. */
export type FieldSource = { file: string; env?: string; flag?: string; secret?: boolean };

export const FIELDS = {
  relayUrls: { file: 'platform_integration.platform_url', env: 'AGENT_RELAY_URL', flag: '--relay' },
  token: { file: 'platform_integration.api_key', env: 'AGENT_TOKEN', flag: '--token', secret: true },
  clientId: { file: 'platform_integration.client_id', env: 'AGENT_CLIENT_ID', flag: '--client-id' },
  caFile: { file: 'platform_integration.ca_file', env: 'AGENT_CA_FILE', flag: '--ca' },
  heartbeatIntervalSeconds: { file: 'platform_integration.heartbeat_interval_seconds' },
  capabilities: { file: 'platform_integration.capabilities' },
  logLevel: { file: 'platform_integration.log_level', env: 'AGENT_LOG_LEVEL', flag: '--log-level' },
  enableRequestLogging: { file: 'platform_integration.enable_request_logging' },
  upstreamUrl: { file: 'upstream_url', env: 'AGENT_UPSTREAM_URL', flag: '--upstream' },
  upstreamApiKey: { file: 'upstream_api_key', env: 'AGENT_UPSTREAM_API_KEY', secret: true },
  maxConcurrency: { file: 'max_concurrency', env: 'AGENT_MAX_CONCURRENCY', flag: '--max-concurrency' },
  connections: { file: 'connections', env: 'AGENT_CONNECTIONS', flag: '--connections' },
  statusPort: { file: 'status_port', env: 'AGENT_STATUS_PORT', flag: '--status-port' },
  autoUpdate: { file: 'auto_update', env: 'AGENT_AUTO_UPDATE', flag: '--auto-update' },
  // Secret: a proxy URL may carry a user and password.
  proxyUrl: { file: 'proxy_url', env: 'AGENT_PROXY_URL', flag: '--proxy', secret: true },
  desktopNotifications: {
    file: 'desktop_notifications',
    env: 'AGENT_DESKTOP_NOTIFICATIONS',
    flag: '--desktop-notifications',
  },
} as const satisfies Record<string, FieldSource>;

export type FieldName = keyof typeof FIELDS;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Strings from the environment and flags become numbers when they look like one. */
function toNumber(value: unknown): unknown {
  return typeof value === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

function toBoolean(value: unknown): unknown {
  return typeof value === 'string' ? (BOOLEAN_WORDS[value.trim().toLowerCase()] ?? value) : value;
}

function integer(min: number, max: number, fallback: number) {
  const problem = `must be an integer from ${min} to ${max}`;
  return z
    .preprocess(toNumber, z.number({ error: problem }).int(problem).min(min, problem).max(max, problem))
    .default(fallback);
}

function text(what: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
}

/** A string checked by one of the URL helpers, which also says what is wrong with it. */
function url(normalise: (value: string) => { url: string } | { problem: string }) {
  return text('a URL string').transform((value, ctx) => {
    const result = normalise(value.trim());
    if ('url' in result) return result.url;
    ctx.issues.push({ code: 'custom', message: result.problem, input: value });
    return z.NEVER;
  });
}

/**
 * One relay address or several: a comma-separated string (file, environment, flag) or, in
 * config.jsonc, an array of strings. Each becomes a connect URL; order is kept, repeats dropped.
 */
const relayUrls = z.unknown().transform((value, ctx): string[] => {
  if (value === undefined) {
    ctx.issues.push({ code: 'custom', message: 'is required', input: value });
    return z.NEVER;
  }
  const entries = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(entries) || !entries.every((entry) => typeof entry === 'string')) {
    ctx.issues.push({ code: 'custom', message: 'must be a URL string or a list of them', input: value });
    return z.NEVER;
  }
  const trimmed = entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (trimmed.length === 0) {
    ctx.issues.push({ code: 'custom', message: 'must name at least one relay', input: value });
    return z.NEVER;
  }
  const urls: string[] = [];
  trimmed.forEach((entry, i) => {
    const result = toConnectUrl(entry);
    if ('url' in result) {
      if (!urls.includes(result.url)) urls.push(result.url);
      return;
    }
    const which = trimmed.length > 1 ? `entry ${i + 1} ` : '';
    ctx.issues.push({ code: 'custom', message: `${which}${result.problem}`, input: value });
  });
  return urls;
});

export const configSchema = z.object({
  relayUrls,
  caFile: text('a file path').trim().min(1, 'must not be empty').optional(),
  token: text('a string').trim().min(1, 'is required'),
  clientId: text('a string')
    .trim()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .optional(),
  heartbeatIntervalSeconds: integer(1, 3600, 15),
  capabilities: z
    .array(z.string().min(1).max(64), { error: 'must be a list of strings' })
    .min(1, 'must name at least one capability')
    .max(64, 'must name at most 64 capabilities')
    .default(['chat']),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  enableRequestLogging: z.preprocess(toBoolean, z.boolean({ error: 'must be true or false' })).default(false),
  upstreamUrl: url(normaliseUpstreamUrl).default('http://127.0.0.1:5102'),
  upstreamApiKey: text('a string or null').min(1, 'must not be empty (use null for none)').optional(),
  maxConcurrency: integer(1, 1024, 4),
  connections: integer(1, 16, 2),
  statusPort: integer(-1, 65535, 5103),
  autoUpdate: z.preprocess(toBoolean, z.boolean({ error: 'must be true or false' })).default(false),
  proxyUrl: url(parseProxyUrl).optional(),
  desktopNotifications: z.preprocess(toBoolean, z.boolean({ error: 'must be true or false' })).default(false),
});

/**
 * The agent's validated settings.
 * - `relayUrls`: the WebSocket addresses of the relays, `ws(s)://host[:port][/prefix]/agent/connect`,
 *   one per relay: the agent holds its sockets to different addresses.
 * - `connections`: sockets held open at once, each to a different relay address (at most one per
 *   address: capped by the length of `relayUrls`); they share `maxConcurrency`.
 * - `caFile`: absolute path of a PEM file whose certificates are trusted for the relay connection,
 *   on top of the system's roots (set by `loadConfig` after checking the file).
 * - `heartbeatIntervalSeconds`: informational; the relay's `welcome.heartbeatMs` rules liveness.
 * - `statusPort`: 0 picks a free port, -1 disables the status server.
 * - `autoUpdate`: take the agent version the relay offers (only when running as the bundle file).
 * - `proxyUrl`: the proxy relays are dialled through (http(s):// or socks…://, credentials allowed:
 *   never log it, see proxy-url.ts); it wins over `proxyEnv`.
 * - `desktopNotifications`: one desktop notification per incident when the bridge needs a person.
 * - `proxyEnv`: the environment's `HTTPS_PROXY`-style variables, picked by `loadConfig`.
 */
export type AgentConfig = z.output<typeof configSchema> & { proxyEnv?: ProxyEnv };

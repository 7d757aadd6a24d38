/**
 * The agent's settings: one table naming, for each, where it may come from (file key,
 * environment variable, flag), the zod schema that coerces, defaults and validates it, and its
 * README line. The schema of the merged values and the AgentConfig type come from it.
 */
import { booleanSetting, logLevelSetting, releaseKey } from '@arena-relay/shared';
import { z } from 'zod';
import { DIALECT_NAMES } from '../upstream/dialects/dialect.js';
import { normaliseUpstreamUrl, toConnectUrl } from './relay-url.js';

/** What runs the agent; set by the service files `install-service` writes (see exit-codes.ts). */
export const SERVICE_MANAGERS = ['none', 'systemd', 'launchd', 'task-scheduler'] as const;
export type ServiceManager = (typeof SERVICE_MANAGERS)[number];
/** `auto`: the agent finds out which bridge answers at upstream_url; else one dialect by name. */
export const BRIDGE_CHOICES = ['auto', ...DIALECT_NAMES] as const;

import { type ProxyEnv, parseProxyUrl } from './proxy-url.js';

/** Strings from the environment and flags become numbers when they look like one. */
function toNumber(value: unknown): unknown {
  return typeof value === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
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

/**
 * One setting: where it can be given (`file` is a dotted path into config.jsonc), the schema
 * that coerces, defaults and validates it, and its line in the README's table (`npm run
 * docs:config`). A new setting is one entry in FIELDS.
 */
export type FieldSource = {
  file: string;
  env?: string;
  flag?: string;
  /** Never echoed in an error message. */
  secret?: boolean;
  schema: z.ZodType;
  doc: string;
};

export const FIELDS = {
  relayUrls: {
    file: 'platform_integration.platform_url',
    env: 'AGENT_RELAY_URL',
    flag: '--relay',
    schema: relayUrls,
    doc: 'relay address(es), http(s) or ws(s), one per relay: comma-separated (in the file also a list)',
  },
  token: {
    file: 'platform_integration.api_key',
    env: 'AGENT_TOKEN',
    flag: '--token',
    secret: true,
    schema: text('a string').trim().min(1, 'is required'),
    doc: 'the client token (`POST /api/clients`, or the client package)',
  },
  clientId: {
    file: 'platform_integration.client_id',
    env: 'AGENT_CLIENT_ID',
    flag: '--client-id',
    schema: text('a string')
      .trim()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .optional(),
    doc: 'the client id the token belongs to',
  },
  caFile: {
    file: 'platform_integration.ca_file',
    env: 'AGENT_CA_FILE',
    flag: '--ca',
    schema: text('a file path').trim().min(1, 'must not be empty').optional(),
    doc: "PEM CA certificate(s) trusted for the relay besides the system's (in the file: relative to it)",
  },
  capabilities: {
    file: 'platform_integration.capabilities',
    schema: z
      .array(z.string().min(1).max(64), { error: 'must be a list of strings' })
      .min(1, 'must name at least one capability')
      .max(64, 'must name at most 64 capabilities')
      .default(['chat']),
    doc: 'what the bridge serves, announced to the relay',
  },
  logLevel: {
    file: 'platform_integration.log_level',
    env: 'AGENT_LOG_LEVEL',
    flag: '--log-level',
    schema: logLevelSetting.default('info'),
    doc: "fatal, error, warn, info, debug, trace, silent; unset, the relay's pushed setting applies",
  },
  enableRequestLogging: {
    file: 'platform_integration.enable_request_logging',
    schema: booleanSetting.default(false),
    doc: 'one log line per finished request (model, status, bytes, duration)',
  },
  upstreamUrl: {
    file: 'upstream_url',
    env: 'AGENT_UPSTREAM_URL',
    flag: '--upstream',
    schema: url(normaliseUpstreamUrl).default('http://127.0.0.1:5102'),
    doc: 'the LMArenaBridge address',
  },
  upstreamApiKey: {
    file: 'upstream_api_key',
    env: 'AGENT_UPSTREAM_API_KEY',
    secret: true,
    schema: text('a string or null').min(1, 'must not be empty (use null for none)').optional(),
    doc: "the bridge's own API key, if it has one (`null`: none)",
  },
  bridge: {
    file: 'bridge',
    env: 'AGENT_BRIDGE',
    flag: '--bridge',
    schema: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
        z.enum(BRIDGE_CHOICES, { error: `must be one of ${BRIDGE_CHOICES.join(', ')}` }),
      )
      .default('auto'),
    doc: `the bridge's dialect: ${BRIDGE_CHOICES.slice(1)
      .map((name) => `\`${name}\``)
      .join(', ')}, or \`auto\` (found from what \`upstream_url\` answers)`,
  },
  maxConcurrency: {
    file: 'max_concurrency',
    env: 'AGENT_MAX_CONCURRENCY',
    flag: '--max-concurrency',
    schema: integer(1, 1024, 4),
    doc: "streams served at once, shared by all relays; unset, the relay's pushed setting applies",
  },
  connections: {
    file: 'connections',
    env: 'AGENT_CONNECTIONS',
    flag: '--connections',
    schema: integer(1, 16, 2),
    doc: 'sockets held open at once, each to a different relay address (at most one per address)',
  },
  statusPort: {
    file: 'status_port',
    env: 'AGENT_STATUS_PORT',
    flag: '--status-port',
    schema: integer(-1, 65535, 5103),
    doc: 'local status server on 127.0.0.1 (0: any free port, -1: off)',
  },
  autoUpdate: {
    file: 'auto_update',
    env: 'AGENT_AUTO_UPDATE',
    flag: '--auto-update',
    schema: booleanSetting.default(false),
    doc: 'take the signed agent version the relay offers (only when run as the `arena-agent.mjs` bundle; on in client packages)',
  },
  serviceManager: {
    file: 'service_manager',
    env: 'AGENT_SERVICE_MANAGER',
    flag: '--service-manager',
    schema: z
      .enum(SERVICE_MANAGERS, { error: `must be one of ${SERVICE_MANAGERS.join(', ')}` })
      .default('none'),
    doc: '`none`, `systemd`, `launchd`, `task-scheduler`: what runs the agent, so a refused token exits with a code it does not restart (set by `install-service`)',
  },
  releaseKey: {
    file: 'platform_integration.release_key',
    env: 'AGENT_RELEASE_KEY',
    schema: releaseKey.optional(),
    doc: 'the Ed25519 public key (base64url) agent releases must be signed by; unset, the key built into the bundle',
  },
  logFile: {
    file: 'log_file',
    env: 'AGENT_LOG_FILE',
    schema: text('a file path').trim().min(1, 'must not be empty (use null for none)').optional(),
    doc: 'a rotating log file (5 MiB × 4) beside the console, relative to config.jsonc; a service writes `arena-agent.log` there anyway',
  },
  proxyUrl: {
    file: 'proxy_url',
    env: 'AGENT_PROXY_URL',
    flag: '--proxy',
    // A proxy URL may carry a user and password.
    secret: true,
    schema: url(parseProxyUrl).optional(),
    doc: 'an HTTP(S) or SOCKS proxy to reach the relay through (`http://user:pass@proxy:3128`, `socks5://…`); unset, `HTTPS_PROXY` / `ALL_PROXY` (less `NO_PROXY`) apply; a loopback relay is never proxied',
  },
  desktopNotifications: {
    file: 'desktop_notifications',
    env: 'AGENT_DESKTOP_NOTIFICATIONS',
    flag: '--desktop-notifications',
    schema: booleanSetting.default(false),
    doc: 'one desktop notification per incident when the bridge needs a person (Cloudflare check, session expired, tab closed)',
  },
} as const satisfies Record<string, FieldSource>;

export type FieldName = keyof typeof FIELDS;

type Shape = { [K in FieldName]: (typeof FIELDS)[K]['schema'] };

/** Validates the merged values of every source at once. */
export const configSchema = z.object(
  Object.fromEntries(Object.entries(FIELDS).map(([name, field]) => [name, field.schema])) as Shape,
);

/**
 * The agent's validated settings.
 * - `relayUrls`: the WebSocket addresses of the relays, `ws(s)://host[:port][/prefix]/agent/connect`,
 *   one per relay: the agent holds its sockets to different addresses.
 * - `connections`: sockets held open at once, each to a different relay address (at most one per
 *   address: capped by the length of `relayUrls`); they share `maxConcurrency`.
 * - `caFile`: absolute path of a PEM file whose certificates are trusted for the relay connection,
 *   on top of the system's roots (set by `loadConfig` after checking the file).
 * - `bridge`: the bridge's dialect, or `auto` (default) to detect it from what upstream_url answers.
 * - `statusPort`: 0 picks a free port, -1 disables the status server.
 * - `autoUpdate`: take the agent version the relay offers (only when running as the bundle file).
 * - `serviceManager`: what runs the agent, so a refused credential ends it with a code that
 *   manager does not restart (exit-codes.ts); `install-service` sets it.
 * - `releaseKey`: the Ed25519 key (base64url) agent releases must be signed by; unset, the key
 *   built into the bundle, if any (with none, every update is refused).
 * - `logFile`: a rotating log file written besides the console (service/log-file.ts); relative to
 *   config.jsonc's folder. Unset, a service writes `arena-agent.log` there anyway.
 * - `proxyUrl`: the proxy relays are dialled through (http(s):// or socks…://, credentials allowed:
 *   never log it, see proxy-url.ts); it wins over `proxyEnv`.
 * - `desktopNotifications`: one desktop notification per incident when the bridge needs a person.
 * - `proxyEnv`: the environment's `HTTPS_PROXY`-style variables, picked by `loadConfig`.
 */
export type AgentConfig = z.output<typeof configSchema> & { proxyEnv?: ProxyEnv };

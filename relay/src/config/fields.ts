/**
 * Every environment variable the relay reads, once: its name, schema (coercion, default,
 * validation), the conversion to the unit the code uses, its README line and whether it is a
 * secret. `RelayConfig`, the variable list deployment files are checked against and the README's
 * table all come from here: a new setting is one entry (then `npm run docs:config`).
 *
 * Keys are `RelayConfig` field names, except the parts load-config.ts folds into a group
 * (`alert*` → `alerts`, `tls*` → `tls`, `streamCommit` → `sseKeepAliveMs`, `requestLogPersist` →
 * `requestLogRetentionMs`).
 */
import { booleanSetting, LOG_LEVELS, logLevelSetting, MAX_REQUEST_BODY_BYTES } from '@arena-relay/shared';
import { z } from 'zod';
import {
  commaList,
  type Field,
  field,
  flag,
  integer,
  minutesToMs,
  optionalChecked,
  optionalString,
  priceTableJson,
  seconds,
  toMs,
} from './field.js';

/** The longest grace a replaced credential may get, seconds (a week). */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export const BALANCING_STRATEGIES = ['least_load', 'round_robin', 'random', 'latency'] as const;
export type BalancingStrategy = (typeof BALANCING_STRATEGIES)[number];

/** An alert rule's hold time: minutes (fractions allowed, up to a week), used as milliseconds. */
const alertMinutes = (fallback: number) => z.coerce.number().min(0).max(10_080).default(fallback);

export const FIELDS = {
  port: field('PORT', integer(0, 65535, 8787), 'port the relay listens on (0: any free port)'),
  host: field('HOST', z.string().min(1).default('127.0.0.1'), 'address the relay listens on'),
  dataDir: field(
    'DATA_DIR',
    z.string().min(1).default('./data'),
    'embedded store (SQLite, WAL, fsync on every acknowledged write)',
  ),
  adminToken: field(
    'ADMIN_TOKEN',
    optionalChecked((v) => v.length >= 16, 'must be at least 16 characters'),
    'bearer token of the admin API (≥ 16 chars)',
    { secret: true, shownDefault: 'generated, printed once' },
  ),
  publicUrl: field(
    'PUBLIC_URL',
    optionalChecked((v) => /^https?:\/\//.test(v), 'must start with http:// or https://'),
    'the address written into client packages',
  ),
  requestTimeoutMs: field(
    'GATEWAY_REQUEST_TIMEOUT',
    seconds(300),
    'seconds a whole request may take (504 / error event after)',
    { to: toMs },
  ),
  retryAttempts: field(
    'GATEWAY_RETRY_ATTEMPTS',
    integer(0, 10, 3),
    'extra agents tried when one fails before the first byte',
  ),
  loadBalancing: field(
    'GATEWAY_LOAD_BALANCING',
    z.enum(BALANCING_STRATEGIES).default('least_load'),
    BALANCING_STRATEGIES.map((s) => `\`${s}\``).join(', '),
  ),
  heartbeatMs: field(
    'GATEWAY_HEARTBEAT_INTERVAL',
    seconds(15),
    'seconds between pings; an agent missing two is dropped',
    { to: toMs },
  ),
  maxBodyBytes: field(
    'GATEWAY_MAX_BODY_BYTES',
    z.coerce
      .number()
      .int()
      .positive()
      .max(
        MAX_REQUEST_BODY_BYTES,
        `at most ${MAX_REQUEST_BODY_BYTES} bytes: a request travels to its agent in one frame`,
      )
      .default(4 * 1024 * 1024),
    'request body limit, bytes (413 beyond); at most 32 MiB − 64 KiB, what an agent accepts',
  ),
  streamWindow: field(
    'GATEWAY_STREAM_WINDOW',
    z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .default(256 * 1024),
    'per-stream flow-control window, bytes',
  ),
  queueSize: field(
    'GATEWAY_QUEUE_SIZE',
    integer(0, 100_000, 100),
    'requests that may wait for a free bridge (429 + `retry-after` beyond)',
  ),
  queueTimeoutMs: field(
    'GATEWAY_QUEUE_TIMEOUT',
    seconds(30),
    'seconds a request may wait for a free bridge',
    { to: toMs },
  ),
  cooldownFailures: field(
    'GATEWAY_COOLDOWN_FAILURES',
    integer(1, 100, 3),
    'failures in a row that bench an agent',
  ),
  cooldownMs: field(
    'GATEWAY_COOLDOWN_SECONDS',
    seconds(5),
    'first bench period, seconds (doubles on relapse)',
    { to: toMs },
  ),
  shutdownGraceMs: field(
    'GATEWAY_SHUTDOWN_GRACE',
    seconds(30),
    'seconds SIGTERM waits for streams in flight (agents are told `goaway` and dial another relay at once; see "Running several relays")',
    { to: toMs },
  ),
  headersTimeoutMs: field(
    'GATEWAY_HEADERS_TIMEOUT',
    seconds(10),
    'seconds a client has to send its request headers (slowloris)',
    { to: toMs },
  ),
  maxConnectionsPerAddress: field(
    'GATEWAY_MAX_CONNECTIONS_PER_ADDRESS',
    z.coerce.number().int().min(0).default(256),
    'open connections per client address (0: no cap; off behind `TRUST_PROXY`)',
  ),
  authFailuresPerMinute: field(
    'GATEWAY_AUTH_FAILURES_PER_MINUTE',
    z.coerce.number().int().min(1).default(10),
    'failed authentications per address before 429 for a while (1 min, doubling)',
  ),
  credentialGraceMs: field(
    'CREDENTIAL_GRACE_SECONDS',
    integer(0, MAX_GRACE_SECONDS, 300),
    `seconds a replaced credential keeps working: the client token a package download or \`rotate-token\` replaced, an API key's secret \`regenerate\` replaced (0: retired at once; at most ${MAX_GRACE_SECONDS}; per call \`?grace_seconds=\`)`,
    { to: (s) => s * 1000 },
  ),
  maxAgentsPerClient: field(
    'GATEWAY_MAX_AGENTS_PER_CLIENT',
    z.coerce.number().int().min(1).default(16),
    'live agents one bridge client may hold',
  ),
  corsOrigins: field(
    'CORS_ORIGINS',
    optionalString,
    'comma-separated browser origins (or `*`) allowed on `/v1/*`; never on `/api/*`. Set, chat completions and `/v1/models` leave the node fast path for the Hono app (same answers, some 50 µs more CPU per request)',
    { to: commaList },
  ),
  sseKeepAliveMs: field(
    'GATEWAY_SSE_KEEPALIVE',
    seconds(15),
    'seconds a waiting stream goes without a byte before its 200 and `: keep-alive` comments (see below)',
    { to: toMs },
  ),
  streamCommit: field(
    'GATEWAY_STREAM_COMMIT',
    z.enum(['keepalive', 'first_byte']).default('keepalive'),
    "when a streamed answer's 200 goes out: `keepalive` after `GATEWAY_SSE_KEEPALIVE` of waiting, `first_byte` with the first byte (see below)",
  ),
  redisUrl: field(
    'REDIS_URL',
    optionalString,
    'share clients, keys, limits, usage and agents with other relays; `redis://user:pass@host:6379` for an ACL user limited to the prefix (SECURITY.md §4.5), `rediss://` for TLS',
    { secret: true },
  ),
  redisPrefix: field('REDIS_PREFIX', z.string().min(1).default('arena:'), 'prefix of every Redis key'),
  redisCaFile: field(
    'REDIS_CA_FILE',
    optionalString,
    "PEM of the CA that signed Redis's certificate (with a `rediss://` `REDIS_URL`)",
  ),
  redisSentinels: field(
    'REDIS_SENTINELS',
    optionalChecked(
      (v) => v.split(',').every((h) => /^[^:\s]+:\d+$/.test(h.trim())),
      'must be a comma-separated list of host:port',
    ),
    '`host:port,…` of Sentinels: every Redis connection (store, limiter, usage, cluster) asks them for the master; `REDIS_URL` then only lends password, db and TLS',
    {
      to: (v) =>
        v?.split(',').map((h) => {
          const [host, port] = h.trim().split(':');
          return { host: host!, port: Number(port) };
        }),
    },
  ),
  redisSentinelName: field(
    'REDIS_SENTINEL_NAME',
    z.string().min(1).default('mymaster'),
    'the master name the Sentinels know',
  ),
  redisWaitReplicas: field(
    'REDIS_WAIT_REPLICAS',
    z.coerce.number().int().min(0).max(16).optional(),
    'replicas a registration, key or setting (and each usage batch) must reach (`WAIT`) before it is acknowledged',
    { shownDefault: '`1` with Sentinel, else `0`' },
  ),
  redisWaitTimeoutMs: field(
    'REDIS_WAIT_TIMEOUT',
    seconds(1),
    'seconds to wait for those replicas (a shortfall is logged, not refused)',
    { to: toMs },
  ),
  clusterHeartbeatMs: field(
    'CLUSTER_HEARTBEAT_INTERVAL',
    seconds(2),
    "seconds between a relay's heartbeats; one silent for 3 leaves the cluster",
    { to: toMs },
  ),
  clusterQueryTimeoutMs: field(
    'CLUSTER_QUERY_TIMEOUT',
    seconds(1),
    'seconds a cluster-wide admin view waits for each other relay; later ones are listed as unreachable',
    { to: toMs },
  ),
  rateLimitFailMode: field(
    'RATE_LIMIT_FAIL_MODE',
    z.enum(['open', 'closed']).default('open'),
    'when Redis is down: admit (`open`) or refuse with 503 (`closed`)',
  ),
  priceTable: field(
    'PRICE_TABLE',
    priceTableJson,
    'JSON `{"model": {"prompt": …, "completion": …}}` per 1k tokens (`*`: every other model), for `/api/usage` costs',
  ),
  auditMaxEntries: field(
    'AUDIT_MAX_ENTRIES',
    integer(100, 10_000_000, 100_000),
    'operator actions the audit log keeps (the newest; cluster-wide with Redis)',
  ),
  smtpUrl: field(
    'SMTP_URL',
    optionalChecked((v) => /^smtps?:\/\//i.test(v), 'must be an smtp:// or smtps:// URL'),
    '`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`, for email alert channels',
    { secret: true },
  ),
  smtpFrom: field(
    'SMTP_FROM',
    z.string().min(3).max(256).default('Arena Relay <arena-relay@localhost>'),
    'the sender of alert emails',
  ),
  telegramApiUrl: field(
    'TELEGRAM_API_URL',
    z.url({ protocol: /^https?$/ }).default('https://api.telegram.org'),
    'the Telegram Bot API (a proxy, or a local one in tests)',
    { to: (v) => v.replace(/\/+$/, '') },
  ),
  alertIntervalMs: field(
    'ALERT_INTERVAL',
    z.coerce.number().min(0).max(3600).default(15),
    'seconds between evaluations of the alert rules (0: never)',
    { to: toMs },
  ),
  alertBridgeDownMs: field(
    'ALERT_BRIDGE_DOWN_MINUTES',
    alertMinutes(5),
    "minutes a client's connected agents must all be not ready before `bridge_not_serving` fires",
    { to: minutesToMs },
  ),
  alertClientOfflineMs: field(
    'ALERT_CLIENT_OFFLINE_MINUTES',
    alertMinutes(10),
    'minutes a client seen in the last day must have no connection before `client_offline` fires',
    { to: minutesToMs },
  ),
  alertModelOutageMs: field(
    'ALERT_MODEL_OUTAGE_MINUTES',
    alertMinutes(2),
    'minutes a model must go with no ready agent before `model_outage` fires, or under `ALERT_MODEL_CAPACITY_MIN` before `model_capacity` does',
    { to: minutesToMs },
  ),
  alertRedisMs: field(
    'ALERT_REDIS_MINUTES',
    alertMinutes(1),
    'minutes Redis must be unreachable before `redis_unreachable` fires',
    { to: minutesToMs },
  ),
  alertCapacityMin: field(
    'ALERT_MODEL_CAPACITY_MIN',
    integer(0, 1_000_000, 0),
    "a model's ready capacity (concurrent streams) under which `model_capacity` fires (0: off)",
  ),
  alertUpdateFailedMs: field(
    'ALERT_AGENT_UPDATE_FAILED_MINUTES',
    alertMinutes(0),
    'minutes an agent must stay behind an update it failed to apply before `agent_update_failed` fires',
    { to: minutesToMs },
  ),
  ownerWebhookAllowHttp: field(
    'ALERT_OWNER_WEBHOOK_ALLOW_HTTP',
    flag,
    "owners' alert webhooks may be plain `http://` URLs (labs and tests; default: `https://` only)",
  ),
  ownerWebhookAllowPrivate: field(
    'ALERT_OWNER_WEBHOOK_ALLOW_PRIVATE',
    flag,
    "owners' alert webhooks may reach loopback, private, link-local and other non-public addresses (labs and tests)",
  ),
  alertSettleMs: field(
    'ALERT_SETTLE_MINUTES',
    z.coerce.number().min(0).max(1440).default(2),
    'minutes a condition must be gone before its recovery is sent',
    { to: minutesToMs },
  ),
  alertQuietMs: field(
    'ALERT_QUIET_MINUTES',
    alertMinutes(30),
    'least minutes between a recovery and a new incident of the same thing',
    { to: minutesToMs },
  ),
  requestLogSize: field(
    'REQUEST_LOG_SIZE',
    integer(0, 100_000, 1000),
    "requests each relay's request log keeps in memory (the newest; `0`: no request log)",
  ),
  requestLogPersist: field(
    'REQUEST_LOG_PERSIST',
    flag,
    'the request log is also written to `<DATA_DIR>/requests.db` (each relay its own)',
    { shownDefault: '`off`' },
  ),
  requestLogRetentionMs: field(
    'REQUEST_LOG_RETENTION_HOURS',
    z.coerce.number().positive().max(8760).default(24),
    'hours `requests.db` keeps an entry (with `REQUEST_LOG_PERSIST`)',
    { to: (hours) => Math.round(hours * 3_600_000) },
  ),
  logLevel: field(
    'LOG_LEVEL',
    logLevelSetting.default('info'),
    `pino level (${LOG_LEVELS.join(', ')}); tokens and \`authorization\` are always redacted`,
  ),
  tlsCertFile: field('TLS_CERT_FILE', optionalString, 'certificate (PEM) to serve HTTPS and WSS directly'),
  tlsKeyFile: field('TLS_KEY_FILE', optionalString, 'its private key (PEM); set both or neither'),
  trustProxy: field('TRUST_PROXY', flag, 'take client addresses from `X-Forwarded-For`'),
  metricsRequireToken: field('METRICS_REQUIRE_TOKEN', flag, '`GET /metrics` asks for the admin token'),
  agentUpdates: field(
    'GATEWAY_AGENT_UPDATES',
    booleanSetting.default(true),
    'offer self-updating agents the agent version this relay ships (`off`: never)',
    { shownDefault: '`on`' },
  ),
  agentReleaseDir: field(
    'AGENT_RELEASE_DIR',
    optionalString,
    'folder of a signed agent release (`npm run release:sign`): shipped in client packages with its key pinned, and the only bundle ever offered as an update. Unset: packages ship an unsigned build and no update is offered. A manifest that does not sign the bundle beside it stops the relay at start',
  ),
} satisfies Record<string, Field>;

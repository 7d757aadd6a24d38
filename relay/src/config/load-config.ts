/**
 * Relay configuration: every environment variable the relay reads, validated once at start.
 * Nothing else in the relay touches process.env.
 */

import { MAX_REQUEST_BODY_BYTES } from '@arena-relay/shared';
import { z } from 'zod';

/** The longest grace a replaced credential may get, seconds (a week). */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Per model, per 1 000 tokens; `*` prices every model not listed. */
const priceTable = z.record(
  z.string().min(1),
  z.strictObject({ prompt: z.number().nonnegative(), completion: z.number().nonnegative() }),
);
export type PriceTable = z.infer<typeof priceTable>;

/** PRICE_TABLE: JSON `{"<model>": {"prompt": <per 1k>, "completion": <per 1k>}}`; empty = no prices. */
const priceTableJson = z
  .string()
  .optional()
  .transform((raw, ctx): PriceTable => {
    if (raw === undefined || raw.trim() === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be JSON: {"<model>": {"prompt": 0.5, "completion": 1.5}}',
      });
      return z.NEVER;
    }
    const parsed = priceTable.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'value'}: ${issue.message}` });
    }
    return z.NEVER;
  });

export const BALANCING_STRATEGIES = ['least_load', 'round_robin', 'random', 'latency'] as const;
export type BalancingStrategy = (typeof BALANCING_STRATEGIES)[number];

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATA_DIR: z.string().min(1).default('./data'),
    REDIS_URL: optionalString,
    REDIS_PREFIX: z.string().min(1).default('arena:'),
    /** PEM bundle of the CA that signed Redis's certificate, for a `rediss://` REDIS_URL on a private CA. */
    REDIS_CA_FILE: optionalString,
    /** `smtp://user:pass@host:587` or `smtps://…:465`: where alert emails are sent from. */
    SMTP_URL: optionalString.refine((v) => v === undefined || /^smtps?:\/\//i.test(v), {
      message: 'must be an smtp:// or smtps:// URL',
    }),
    SMTP_FROM: z.string().min(3).max(256).default('Arena Relay <arena-relay@localhost>'),
    /** The Telegram Bot API's base URL (a local one in tests, or a proxy). */
    TELEGRAM_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.telegram.org'),
    /** How often the alert rules are evaluated, seconds (0: never; tests drive them by hand). */
    ALERT_INTERVAL: z.coerce.number().min(0).max(3600).default(15),
    /** How long each rule's condition must hold before anyone is told, minutes. */
    ALERT_BRIDGE_DOWN_MINUTES: z.coerce.number().min(0).max(10_080).default(5),
    ALERT_CLIENT_OFFLINE_MINUTES: z.coerce.number().min(0).max(10_080).default(10),
    ALERT_MODEL_OUTAGE_MINUTES: z.coerce.number().min(0).max(10_080).default(2),
    ALERT_REDIS_MINUTES: z.coerce.number().min(0).max(10_080).default(1),
    /** A model's ready capacity (concurrent streams) under which `model_capacity` fires; 0: off. */
    ALERT_MODEL_CAPACITY_MIN: z.coerce.number().int().min(0).max(1_000_000).default(0),
    /** How long a condition must be gone before its recovery is sent, minutes. */
    ALERT_SETTLE_MINUTES: z.coerce.number().min(0).max(1440).default(2),
    /** Least time between a recovery and a new incident of the same thing, minutes. */
    ALERT_QUIET_MINUTES: z.coerce.number().min(0).max(10_080).default(30),
    /** Requests each relay's request log keeps in memory (the newest; 0: none). */
    REQUEST_LOG_SIZE: z.coerce.number().int().min(0).max(100_000).default(1000),
    /** `on`: the request log is also written to `<DATA_DIR>/requests.db`, kept REQUEST_LOG_RETENTION_HOURS. */
    REQUEST_LOG_PERSIST: z.enum(['on', 'off']).default('off'),
    REQUEST_LOG_RETENTION_HOURS: z.coerce.number().positive().max(8760).default(24),
    /** Admin actions the audit log keeps (the newest; cluster-wide with Redis). */
    AUDIT_MAX_ENTRIES: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
    REDIS_SENTINELS: optionalString.refine(
      (v) => v === undefined || v.split(',').every((h) => /^[^:\s]+:\d+$/.test(h.trim())),
      { message: 'must be a comma-separated list of host:port' },
    ),
    REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
    /** Replicas a registration or key must reach before it is acknowledged (WAIT); default 1 with Sentinel, else 0. */
    REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
    REDIS_WAIT_TIMEOUT: seconds(1),
    CLUSTER_HEARTBEAT_INTERVAL: seconds(2),
    CLUSTER_QUERY_TIMEOUT: seconds(1),
    ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
      message: 'must be at least 16 characters',
    }),
    PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
      message: 'must start with http:// or https://',
    }),
    GATEWAY_REQUEST_TIMEOUT: seconds(300),
    GATEWAY_RETRY_ATTEMPTS: z.coerce.number().int().min(0).max(10).default(3),
    GATEWAY_LOAD_BALANCING: z.enum(BALANCING_STRATEGIES).default('least_load'),
    GATEWAY_HEARTBEAT_INTERVAL: seconds(15),
    GATEWAY_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(
        MAX_REQUEST_BODY_BYTES,
        `at most ${MAX_REQUEST_BODY_BYTES} bytes: a request travels to its agent in one frame`,
      )
      .default(4 * 1024 * 1024),
    GATEWAY_STREAM_WINDOW: z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .default(256 * 1024),
    GATEWAY_QUEUE_SIZE: z.coerce.number().int().min(0).max(100_000).default(100),
    GATEWAY_QUEUE_TIMEOUT: seconds(30),
    GATEWAY_COOLDOWN_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
    GATEWAY_COOLDOWN_SECONDS: seconds(5),
    GATEWAY_SHUTDOWN_GRACE: seconds(30),
    /** Seconds a waiting stream goes without a byte before its 200 and `: keep-alive` comments. */
    GATEWAY_SSE_KEEPALIVE: seconds(15),
    /** `keepalive`: the 200 may go out early (see GATEWAY_SSE_KEEPALIVE); `first_byte`: it waits. */
    GATEWAY_STREAM_COMMIT: z.enum(['keepalive', 'first_byte']).default('keepalive'),
    GATEWAY_HEADERS_TIMEOUT: seconds(10),
    CORS_ORIGINS: optionalString,
    GATEWAY_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(10),
    /** Seconds a replaced client token or API key stays valid (0: retired at once). At most a week. */
    CREDENTIAL_GRACE_SECONDS: z.coerce.number().int().min(0).max(MAX_GRACE_SECONDS).default(300),
    GATEWAY_MAX_AGENTS_PER_CLIENT: z.coerce.number().int().min(1).default(16),
    GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(256),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TLS_CERT_FILE: optionalString,
    TLS_KEY_FILE: optionalString,
    TRUST_PROXY: bool,
    METRICS_REQUIRE_TOKEN: bool,
    /** When Redis cannot answer a rate-limit check: `open` admits, `closed` refuses (503). */
    RATE_LIMIT_FAIL_MODE: z.enum(['open', 'closed']).default('open'),
    PRICE_TABLE: priceTableJson,
    /** `on`: agents that update themselves are offered the agent version this relay ships. */
    GATEWAY_AGENT_UPDATES: z.enum(['on', 'off']).default('on'),
    /** Folder of a signed agent release (`npm run release:sign`): shipped in packages, offered as update. */
    AGENT_RELEASE_DIR: optionalString,
  })
  .refine((env) => (env.TLS_CERT_FILE === undefined) === (env.TLS_KEY_FILE === undefined), {
    message: 'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    path: ['TLS_CERT_FILE'],
  })
  .refine((env) => env.REDIS_CA_FILE === undefined || /^rediss:\/\//i.test(env.REDIS_URL ?? ''), {
    message: 'REDIS_CA_FILE needs a rediss:// REDIS_URL',
    path: ['REDIS_CA_FILE'],
  });

const minutes = (m: number) => Math.round(m * 60_000);

/** Every environment variable the relay reads; deployment files are checked against it. */
export const RELAY_ENV_NAMES: readonly string[] = Object.keys(envSchema.shape);

/** The relay's validated settings, in the units the code uses (milliseconds, bytes). */
export type RelayConfig = {
  port: number;
  host: string;
  dataDir: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  /** CA file that verifies a `rediss://` Redis (REDIS_CA_FILE); absent: the system's CAs. */
  redisCaFile: string | undefined;
  /** Alert rules: evaluation interval (0: none), per-rule thresholds, settle and quiet times, all ms. */
  alerts: {
    intervalMs: number;
    thresholdMs: Record<
      'bridge_not_serving' | 'client_offline' | 'model_outage' | 'model_capacity' | 'redis_unreachable',
      number
    >;
    capacityMin: number;
    settleMs: number;
    quietMs: number;
  };
  /** Alert email transport (SMTP_URL); absent: email channels report that they cannot send. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  telegramApiUrl: string;
  /** Admin actions the audit log keeps (AUDIT_MAX_ENTRIES). */
  auditMaxEntries: number;
  /** Requests each relay's request log keeps in memory (REQUEST_LOG_SIZE; 0: none). */
  requestLogSize: number;
  /** With REQUEST_LOG_PERSIST=on: how long `<DATA_DIR>/requests.db` keeps an entry, ms; undefined: not persisted. */
  requestLogRetentionMs: number | undefined;
  /** Sentinel nodes (REDIS_SENTINELS); when set, every connection asks them for the master and REDIS_URL only lends credentials, db and TLS. */
  redisSentinels: Array<{ host: string; port: number }> | undefined;
  redisSentinelName: string;
  /** Replicas that must confirm a critical write (WAIT); 0: do not wait. */
  redisWaitReplicas: number;
  /** How long a critical write waits for them, in ms. */
  redisWaitTimeoutMs: number;
  /** Cluster heartbeat period, in ms; a relay silent for 3 periods leaves the cluster. */
  clusterHeartbeatMs: number;
  /** How long a cluster-wide admin view waits for each other relay, in ms; later ones are listed unreachable. */
  clusterQueryTimeoutMs: number;
  adminToken: string | undefined;
  publicUrl: string | undefined;
  requestTimeoutMs: number;
  retryAttempts: number;
  loadBalancing: BalancingStrategy;
  heartbeatMs: number;
  maxBodyBytes: number;
  streamWindow: number;
  /** Most requests waiting for capacity at once. */
  queueSize: number;
  queueTimeoutMs: number;
  /** Consecutive failures that bench an agent, and its first bench period. */
  cooldownFailures: number;
  cooldownMs: number;
  /** A waiting stream's 200 and keep-alive comments after this long, in ms; 0 with GATEWAY_STREAM_COMMIT=first_byte. */
  sseKeepAliveMs: number;
  /** How long SIGTERM waits for in-flight streams, in ms. */
  shutdownGraceMs: number;
  /** Browser origins allowed to call /v1/* (`*` for any); empty: no CORS headers at all. */
  corsOrigins: string[];
  /**
   * How long a client token replaced by a download or rotation, or an API key's secret replaced
   * by a regeneration, stays valid, in ms (default 5 min; 0 retires it at once). Admin calls may
   * override it with `?grace_seconds=`.
   */
  credentialGraceMs: number;
  /** Time a client has to send its request headers, in ms (slowloris). */
  headersTimeoutMs: number;
  /** Open connections one address may hold (0 = no cap; not applied with TRUST_PROXY). */
  maxConnectionsPerAddress: number;
  /** Failed authentications an address may make per minute before it is refused for a while. */
  authFailuresPerMinute: number;
  /** Live agents one bridge client may have at once. */
  maxAgentsPerClient: number;
  logLevel: string;
  tls: { certFile: string; keyFile: string } | undefined;
  trustProxy: boolean;
  /** `GET /metrics` asks for the admin token (default: open, for scrapers on a private network). */
  metricsRequireToken: boolean;
  /** What the Redis limiter does when Redis does not answer: admit (`open`) or refuse with 503. */
  rateLimitFailMode: 'open' | 'closed';
  /** Prices for the usage API's `cost`, per model, per 1 000 tokens. */
  priceTable: PriceTable;
  /** Offer self-updating agents this relay's agent bundle (per-client policy at /api/clients/{id}/agent-update). */
  agentUpdates: boolean;
  /** Folder holding the signed agent release; unset, packages ship an unsigned build and no update is offered. */
  agentReleaseDir: string | undefined;
};

/** Thrown by loadConfig with every bad value listed, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid relay configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the relay's environment. Throws ConfigError listing every bad value. */
export function loadConfig(env: Record<string, string | undefined>): RelayConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        const shown = value === undefined || name.includes('TOKEN') ? '' : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    redisCaFile: e.REDIS_CA_FILE,
    auditMaxEntries: e.AUDIT_MAX_ENTRIES,
    requestLogSize: e.REQUEST_LOG_SIZE,
    requestLogRetentionMs:
      e.REQUEST_LOG_PERSIST === 'on' ? Math.round(e.REQUEST_LOG_RETENTION_HOURS * 3_600_000) : undefined,
    alerts: {
      intervalMs: Math.round(e.ALERT_INTERVAL * 1000),
      thresholdMs: {
        bridge_not_serving: minutes(e.ALERT_BRIDGE_DOWN_MINUTES),
        client_offline: minutes(e.ALERT_CLIENT_OFFLINE_MINUTES),
        model_outage: minutes(e.ALERT_MODEL_OUTAGE_MINUTES),
        model_capacity: minutes(e.ALERT_MODEL_OUTAGE_MINUTES),
        redis_unreachable: minutes(e.ALERT_REDIS_MINUTES),
      },
      capacityMin: e.ALERT_MODEL_CAPACITY_MIN,
      settleMs: minutes(e.ALERT_SETTLE_MINUTES),
      quietMs: minutes(e.ALERT_QUIET_MINUTES),
    },
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    telegramApiUrl: e.TELEGRAM_API_URL.replace(/\/+$/, ''),
    redisSentinels: e.REDIS_SENTINELS?.split(',').map((h) => {
      const [host, port] = h.trim().split(':');
      return { host: host!, port: Number(port) };
    }),
    redisSentinelName: e.REDIS_SENTINEL_NAME,
    redisWaitReplicas: e.REDIS_WAIT_REPLICAS ?? (e.REDIS_SENTINELS ? 1 : 0),
    redisWaitTimeoutMs: Math.round(e.REDIS_WAIT_TIMEOUT * 1000),
    clusterHeartbeatMs: Math.round(e.CLUSTER_HEARTBEAT_INTERVAL * 1000),
    clusterQueryTimeoutMs: Math.round(e.CLUSTER_QUERY_TIMEOUT * 1000),
    adminToken: e.ADMIN_TOKEN,
    publicUrl: e.PUBLIC_URL,
    requestTimeoutMs: Math.round(e.GATEWAY_REQUEST_TIMEOUT * 1000),
    retryAttempts: e.GATEWAY_RETRY_ATTEMPTS,
    loadBalancing: e.GATEWAY_LOAD_BALANCING,
    heartbeatMs: Math.round(e.GATEWAY_HEARTBEAT_INTERVAL * 1000),
    maxBodyBytes: e.GATEWAY_MAX_BODY_BYTES,
    streamWindow: e.GATEWAY_STREAM_WINDOW,
    queueSize: e.GATEWAY_QUEUE_SIZE,
    queueTimeoutMs: Math.round(e.GATEWAY_QUEUE_TIMEOUT * 1000),
    cooldownFailures: e.GATEWAY_COOLDOWN_FAILURES,
    cooldownMs: Math.round(e.GATEWAY_COOLDOWN_SECONDS * 1000),
    shutdownGraceMs: Math.round(e.GATEWAY_SHUTDOWN_GRACE * 1000),
    sseKeepAliveMs: e.GATEWAY_STREAM_COMMIT === 'keepalive' ? Math.round(e.GATEWAY_SSE_KEEPALIVE * 1000) : 0,
    headersTimeoutMs: Math.round(e.GATEWAY_HEADERS_TIMEOUT * 1000),
    corsOrigins:
      e.CORS_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter(Boolean) ?? [],
    maxConnectionsPerAddress: e.GATEWAY_MAX_CONNECTIONS_PER_ADDRESS,
    authFailuresPerMinute: e.GATEWAY_AUTH_FAILURES_PER_MINUTE,
    credentialGraceMs: e.CREDENTIAL_GRACE_SECONDS * 1000,
    maxAgentsPerClient: e.GATEWAY_MAX_AGENTS_PER_CLIENT,
    logLevel: e.LOG_LEVEL,
    tls:
      e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    trustProxy: e.TRUST_PROXY,
    metricsRequireToken: e.METRICS_REQUIRE_TOKEN,
    rateLimitFailMode: e.RATE_LIMIT_FAIL_MODE,
    priceTable: e.PRICE_TABLE,
    agentUpdates: e.GATEWAY_AGENT_UPDATES === 'on',
    agentReleaseDir: e.AGENT_RELEASE_DIR,
  };
}

/**
 * Relay configuration: every environment variable in the FIELDS table (fields.ts), read and
 * validated once at start, every bad value listed at once. Nothing else in the relay touches
 * process.env.
 */
import { ConfigError, truncateChars } from '@arena-relay/shared';
import type { Field } from './field.js';
import { FIELDS } from './fields.js';

export type { PriceTable } from './field.js';
export { BALANCING_STRATEGIES, type BalancingStrategy, MAX_GRACE_SECONDS } from './fields.js';
export { ConfigError };

type Fields = typeof FIELDS;
type FieldName = keyof Fields;
/** Each table entry's value, converted to the unit the code uses. */
type Settings = { [K in FieldName]: Fields[K] extends Field<infer T> ? T : never };

const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

/** Every environment variable the relay reads; deployment files are checked against it. */
export const RELAY_ENV_NAMES: readonly string[] = FIELD_NAMES.map((name) => FIELDS[name].env);

/** A rule between settings, checked once every setting it reads is valid; reported under `on`. */
type Check = { reads: FieldName[]; on: FieldName; problem: (s: Settings) => string | undefined };

const CHECKS: Check[] = [
  {
    reads: ['tlsCertFile', 'tlsKeyFile'],
    on: 'tlsCertFile',
    problem: (s) =>
      (s.tlsCertFile === undefined) !== (s.tlsKeyFile === undefined)
        ? 'TLS_CERT_FILE and TLS_KEY_FILE must be set together'
        : undefined,
  },
  {
    reads: ['redisCaFile', 'redisUrl'],
    on: 'redisCaFile',
    problem: (s) =>
      s.redisCaFile !== undefined && !/^rediss:\/\//i.test(s.redisUrl ?? '')
        ? 'REDIS_CA_FILE needs a rediss:// REDIS_URL'
        : undefined,
  },
];

/** The settings in the shape the code uses: alert and TLS parts grouped, the rest as they are. */
function assemble(settings: Settings) {
  const {
    alertIntervalMs,
    alertBridgeDownMs,
    alertClientOfflineMs,
    alertModelOutageMs,
    alertRedisMs,
    alertCapacityMin,
    alertSettleMs,
    alertQuietMs,
    alertUpdateFailedMs,
    ownerWebhookAllowHttp,
    ownerWebhookAllowPrivate,
    tlsCertFile,
    tlsKeyFile,
    streamCommit,
    sseKeepAliveMs,
    redisWaitReplicas,
    requestLogPersist,
    requestLogRetentionMs,
    ...rest
  } = settings;
  return {
    ...rest,
    /** Alert rules: evaluation interval (0: none), per-rule hold times, settle and quiet times, all ms. */
    alerts: {
      intervalMs: alertIntervalMs,
      thresholdMs: {
        bridge_not_serving: alertBridgeDownMs,
        client_offline: alertClientOfflineMs,
        model_outage: alertModelOutageMs,
        model_capacity: alertModelOutageMs,
        redis_unreachable: alertRedisMs,
        agent_update_failed: alertUpdateFailedMs,
      },
      capacityMin: alertCapacityMin,
      /** What an owner's webhook URL may be and reach (ssrf-guard.ts). */
      ownerWebhook: { allowHttp: ownerWebhookAllowHttp, allowPrivate: ownerWebhookAllowPrivate },
      settleMs: alertSettleMs,
      quietMs: alertQuietMs,
    },
    tls: tlsCertFile && tlsKeyFile ? { certFile: tlsCertFile, keyFile: tlsKeyFile } : undefined,
    /** Replicas that must confirm a critical write (WAIT); 0: do not wait. */
    redisWaitReplicas: redisWaitReplicas ?? (rest.redisSentinels ? 1 : 0),
    /** A waiting stream's 200 and keep-alive comments after this long, ms; 0: only with the first byte. */
    sseKeepAliveMs: streamCommit === 'keepalive' ? sseKeepAliveMs : 0,
    /** How long `<DATA_DIR>/requests.db` keeps an entry, ms; undefined: the request log is not persisted. */
    requestLogRetentionMs: requestLogPersist ? requestLogRetentionMs : undefined,
  };
}

/** The relay's validated settings, in the units the code uses (milliseconds, bytes). */
export type RelayConfig = ReturnType<typeof assemble>;

/** Reads and validates the relay's environment. Throws ConfigError listing every bad value. */
export function loadConfig(env: Record<string, string | undefined>): RelayConfig {
  const problems: string[] = [];
  const failed = new Set<FieldName>();
  const settings: Partial<Record<FieldName, unknown>> = {};
  const describe = (name: FieldName, message: string): string => {
    const field: Field = FIELDS[name];
    const value = env[field.env];
    // JSON quoting shows blanks and control characters; a long value is cut, not dumped.
    const shown =
      value === undefined || field.secret ? '' : ` (got ${JSON.stringify(truncateChars(value, 200))})`;
    return `${field.env}: ${message}${shown}`;
  };
  for (const name of FIELD_NAMES) {
    const field: Field = FIELDS[name];
    const raw = env[field.env];
    // Blank is unset: a compose file's `${VAR:-}` must not turn into 0 or an empty path.
    const parsed = field.schema.safeParse(raw === undefined || raw.trim() === '' ? undefined : raw);
    if (parsed.success) {
      settings[name] = field.convert(parsed.data);
    } else {
      failed.add(name);
      for (const issue of parsed.error.issues) problems.push(describe(name, issue.message));
    }
  }
  for (const check of CHECKS) {
    if (check.reads.some((name) => failed.has(name))) continue;
    const problem = check.problem(settings as Settings);
    if (problem !== undefined) problems.push(describe(check.on, problem));
  }
  if (problems.length > 0) throw new ConfigError('relay', problems);
  return assemble(settings as Settings);
}

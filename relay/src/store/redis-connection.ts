/**
 * The one factory of the relay's Redis connections (store, limiter, usage, cluster): a single
 * node from REDIS_URL, or the master that Sentinel names when REDIS_SENTINELS is set (REDIS_URL
 * then only lends credentials, database and TLS). It keeps the connections it made, so a relay
 * can say how each one is doing (`GET /api/relays`), and it makes critical writes wait for
 * replicas (WAIT): replication is asynchronous, and a write only the old master saw is lost
 * when Sentinel promotes a replica.
 */
import { readFileSync } from 'node:fs';
import { redactSecretsInText } from '@arena-relay/shared';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/load-config.js';

export type RedisEndpoint = {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`; with Sentinel only its credentials, db and TLS count. */
  url?: string | undefined;
  sentinels?: Array<{ host: string; port: number }> | undefined;
  /** CA (PEM file) that verifies a `rediss://` server; absent: the system's CAs. */
  caFile?: string | undefined;
  /** The master's name at the Sentinels (default `mymaster`). */
  sentinelName?: string | undefined;
  /** Replicas that must confirm a critical write before it is acknowledged (0: do not wait). */
  waitReplicas?: number | undefined;
  /** How long a critical write waits for them, ms (default 1 000). */
  waitTimeoutMs?: number | undefined;
};

/** The relay's endpoint, or undefined when it runs without Redis. */
export function redisEndpoint(
  config: Pick<
    RelayConfig,
    | 'redisUrl'
    | 'redisCaFile'
    | 'redisSentinels'
    | 'redisSentinelName'
    | 'redisWaitReplicas'
    | 'redisWaitTimeoutMs'
  >,
): RedisEndpoint | undefined {
  if (!config.redisUrl && !config.redisSentinels?.length) return undefined;
  return {
    url: config.redisUrl,
    caFile: config.redisCaFile,
    sentinels: config.redisSentinels,
    sentinelName: config.redisSentinelName,
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
  };
}

/** How one connection behaves when Redis is slow or gone. */
export type ConnectionTuning = {
  /** Per command, ms (default 2 000). */
  commandTimeoutMs?: number;
  /** Retries of a command after a reconnect (default 1). */
  retries?: number;
  /** Queue commands while disconnected (default true); off where a caller must fail at once. */
  offlineQueue?: boolean;
  /** Replaces the default one-line-per-outage warning. */
  onError?(error: Error): void;
};

export type RedisState = {
  mode: 'single' | 'sentinel';
  /** `host:port` the connections reach now (the master Sentinel named), null while none is up. */
  master: string | null;
  /** ioredis status per connection purpose (`ready`, `connecting`, `reconnecting`, …). */
  connections: Record<string, string>;
};

export class RedisConnections {
  private readonly made = new Map<string, Redis>();
  /** Read once: every connection verifies Redis's certificate against it. */
  private readonly ca: Buffer | undefined;

  constructor(
    readonly endpoint: RedisEndpoint,
    private readonly logger?: Logger,
  ) {
    if (!endpoint.url && !endpoint.sentinels?.length)
      throw new Error('a Redis endpoint needs a URL or Sentinels');
    this.ca = endpoint.caFile ? readFileSync(endpoint.caFile) : undefined;
  }

  /** A connection for `purpose` (shown in logs and CLIENT LIST). Connects lazily; errors are logged, not thrown. */
  create(purpose: string, tuning: ConnectionTuning = {}): Redis {
    const { endpoint } = this;
    const options: RedisOptions = {
      lazyConnect: true,
      connectTimeout: 2000,
      commandTimeout: tuning.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: tuning.retries ?? 1,
      enableOfflineQueue: tuning.offlineQueue ?? true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      connectionName: `arena-relay:${purpose}`,
      // A rediss:// URL turns TLS on; a private CA is added here (ioredis keeps explicit options).
      ...(this.ca ? { tls: { ca: this.ca } } : {}),
    };
    const sentinel: RedisOptions | undefined = endpoint.sentinels?.length
      ? {
          sentinels: endpoint.sentinels,
          name: endpoint.sentinelName ?? 'mymaster',
          // No failoverDetector: its +switch-master disconnect, landing while a connection is
          // already reconnecting (the master died), ends that connection for good (ioredis 5.11;
          // test/redis-sentinel.test.ts caught it). A dead master closes the sockets anyway, and
          // each reconnect asks the Sentinels; a demoted (alive) master answers writes with
          // READONLY, which reconnects to the new one and resends the command.
          reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
          sentinelRetryStrategy: (times) => Math.min(times * 200, 1000),
        }
      : undefined;
    let redis: Redis;
    if (sentinel)
      redis = endpoint.url
        ? new Redis(endpoint.url, { ...options, ...sentinel })
        : new Redis({ ...options, ...sentinel });
    else redis = new Redis(endpoint.url!, options);
    let reported = false;
    redis.on('error', (error: Error) => {
      if (tuning.onError) return tuning.onError(error);
      // One line per outage, not one per reconnect attempt.
      if (!reported) this.logger?.warn({ err: error.message, purpose }, 'redis connection error');
      reported = true;
    });
    redis.on('ready', () => {
      if (reported) this.logger?.info({ purpose }, 'redis connection restored');
      reported = false;
    });
    redis.once('end', () => {
      if (this.made.get(purpose) === redis) this.made.delete(purpose);
    });
    this.made.set(purpose, redis);
    return redis;
  }

  /**
   * After a critical write on `redis` (a registration, a key): waits until the configured number
   * of replicas hold it, so that a fail-over cannot lose what was acknowledged. A replica that
   * does not confirm in time is logged, not fatal: with the replica down there is nothing to fail
   * over to, and refusing every write then would turn a lost replica into an outage.
   */
  async confirm(redis: Redis): Promise<void> {
    const replicas = this.endpoint.waitReplicas ?? 0;
    if (replicas <= 0) return;
    const timeoutMs = this.endpoint.waitTimeoutMs ?? 1000;
    const confirmed = Number(await redis.call('WAIT', replicas, timeoutMs));
    if (confirmed < replicas) {
      this.logger?.warn(
        { confirmed, wanted: replicas, timeoutMs },
        'a write was not confirmed by enough replicas in time',
      );
    }
  }

  state(): RedisState {
    const connections: Record<string, string> = {};
    let master: string | null = null;
    for (const [purpose, redis] of this.made) {
      connections[purpose] = redis.status;
      const stream = (redis as unknown as { stream?: { remoteAddress?: string; remotePort?: number } })
        .stream;
      if (!master && redis.status === 'ready' && stream?.remoteAddress) {
        master = `${stream.remoteAddress}:${stream.remotePort}`;
      }
    }
    return { mode: this.endpoint.sentinels?.length ? 'sentinel' : 'single', master, connections };
  }

  /** Where this endpoint points, without a password, for messages. */
  describe(): string {
    const { sentinels, sentinelName, url } = this.endpoint;
    if (sentinels?.length) {
      return `Sentinel master '${sentinelName ?? 'mymaster'}' via ${sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
    }
    // The same rule as the logs: `redis://[redacted]@host:port/db`.
    return redactSecretsInText(url!);
  }
}

/** Connects `redis`, or throws an error naming the endpoint (never its password). */
export async function connectOrThrow(redis: Redis, connections: RedisConnections): Promise<void> {
  // ioredis rejects with "Connection is closed." and reports the cause (a TLS certificate it could
  // not verify, a refused port) only as an 'error' event: keep the latest, so the message names it.
  let cause: Error | undefined;
  const remember = (error: Error) => {
    cause = error;
  };
  redis.on('error', remember);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const why = [cause?.message, (error as Error).message].filter(Boolean).join('; ');
    throw new Error(`cannot connect to Redis at ${connections.describe()}: ${why}`, {
      cause: cause ?? error,
    });
  } finally {
    redis.off('error', remember);
  }
}

/** Closes a connection politely when it is up, at once otherwise. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

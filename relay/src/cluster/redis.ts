/**
 * ioredis connections for the cluster: a single node from REDIS_URL, or Sentinel when
 * REDIS_SENTINELS is set. Commands time out and are not queued while disconnected, so a dead
 * Redis makes cluster calls fail fast instead of hanging requests.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/load-config.js';

/** A connection for `purpose` (shown in logs). Connects lazily; errors are logged, not thrown. */
export function createRedis(config: RelayConfig, logger: Logger, purpose: string): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    connectionName: `arena-relay:${purpose}`,
  };
  const redis = config.redisSentinels
    ? new Redis({ ...options, sentinels: config.redisSentinels, name: config.redisSentinelName })
    : new Redis(config.redisUrl!, options);
  let reported = false;
  redis.on('error', (error: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (!reported) logger.warn({ err: error.message, purpose }, 'redis connection error');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) logger.info({ purpose }, 'redis connection restored');
    reported = false;
  });
  return redis;
}

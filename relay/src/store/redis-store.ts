/**
 * The shared Store on Redis (ioredis), for several relays behind one address: the clients
 * (redis-clients.ts), API keys (redis-api-keys.ts) and settings on one connection, laid out as
 * redis-records.ts describes under the configured prefix.
 *
 * Multi-key changes are Lua scripts (redis-scripts.ts), atomic on the server. Commands time
 * out after 2 s and are retried once, so a Redis outage fails requests quickly instead of
 * hanging them. Registrations, keys and settings wait for the replicas the endpoint asks for
 * before they are acknowledged (see RedisConnections.confirm); counters and touches do not.
 */

import { closeAfterOutcomes } from './client-stats.js';
import { redisAccess } from './redis-access.js';
import { redisApiKeyStore } from './redis-api-keys.js';
import { redisClientStore } from './redis-clients.js';
import { closeRedis, connectOrThrow, type RedisConnections } from './redis-connection.js';
import { redisKeys } from './redis-records.js';
import type { Store } from './store.js';

export type RedisStoreOptions = {
  /** The relay's Redis connection factory (single node or Sentinel). */
  redis: RedisConnections;
  /** Prepended to every key; default `arena:`. */
  prefix?: string;
};

/** Connects to Redis (failing fast when it is unreachable) and returns the Store on it. */
export async function openRedisStore(options: RedisStoreOptions): Promise<Store> {
  const k = redisKeys(options.prefix ?? 'arena:');
  const connections = options.redis;
  const redis = connections.create('store');
  await connectOrThrow(redis, connections);
  const access = redisAccess(redis, connections);
  const { durable } = access;
  const { clients, outcomes } = redisClientStore(access, k);

  return {
    ...clients,
    ...redisApiKeyStore(access, k),
    async getSetting(name) {
      return (await redis.hget(k.settings, name)) ?? undefined;
    },
    async setSetting(name, value) {
      await durable(redis.hset(k.settings, name, value));
    },
    async setSettingIfAbsent(name, value) {
      await durable(redis.hsetnx(k.settings, name, value));
      // Settings are never deleted, so the value read back is the one that won.
      return (await redis.hget(k.settings, name)) ?? value;
    },
    close: closeAfterOutcomes(outcomes, () => closeRedis(redis)),
  };
}

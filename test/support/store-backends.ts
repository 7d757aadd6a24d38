/**
 * Both Store implementations behind one shape, for the contract suite: open (and reopen) a
 * store on the same data, read everything it holds at rest, and throw the data away.
 * SQLite lives in a temp dir; Redis (REDIS_TEST_URL, default redis://127.0.0.1:6379) under a
 * unique `arena-test-<random>:` prefix whose keys are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisConnections } from '../../relay/src/store/redis-connection.js';
import { openRedisStore } from '../../relay/src/store/redis-store.js';
import { openSqliteStore } from '../../relay/src/store/sqlite-store.js';
import type { Store } from '../../relay/src/store/store.js';

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export type StoreBackend = {
  /** Opens a store on this backend's data; call again after close() to reopen it. */
  open(): Promise<Store>;
  /** Every byte the backend holds for this store, as text (for "no plaintext at rest" checks). */
  atRest(): Promise<string>;
  /** Deletes the data. */
  dispose(): Promise<void>;
};

export function sqliteBackend(): StoreBackend {
  const dir = mkdtempSync(join(tmpdir(), 'arena-store-'));
  return {
    async open() {
      return openSqliteStore(dir);
    },
    async atRest() {
      return ['relay.db', 'relay.db-wal']
        .map((f) => join(dir, f))
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('\n');
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every key under `prefix` (SCAN, never KEYS). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

export function redisBackend(): StoreBackend & { prefix: string; redis: Redis } {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  return {
    prefix,
    redis,
    open: () => openRedisStore({ redis: redisAt(REDIS_TEST_URL), prefix }),
    async atRest() {
      const parts: string[] = [];
      for (const key of await keysUnder(redis, prefix)) {
        const type = await redis.type(key);
        if (type === 'hash') parts.push(key, JSON.stringify(await redis.hgetall(key)));
        else if (type === 'zset') parts.push(key, (await redis.zrange(key, 0, -1, 'WITHSCORES')).join(' '));
        else if (type === 'string') parts.push(key, (await redis.get(key)) ?? '');
        else parts.push(key, `(${type})`);
      }
      return parts.join('\n');
    },
    async dispose() {
      const keys = await keysUnder(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

/** True when a Redis answers PING at REDIS_TEST_URL within a second. */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The relay's connection factory for a single Redis node at `url`. */
export function redisAt(url: string): RedisConnections {
  return new RedisConnections({ url });
}

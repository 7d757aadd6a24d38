/**
 * The Redis Store's commands, shared by its client and API key halves. Every store script
 * answers an integer (redis-scripts.ts); a change an operator was told happened waits for the
 * replicas the endpoint asks for (RedisConnections.confirm), counters and touches do not; a
 * record is a hash, read one at a time or many in one pipeline.
 */
import type { Redis } from 'ioredis';
import type { RedisConnections } from './redis-connection.js';
import type { Hash } from './redis-records.js';
import type { RedisScript } from './redis-script.js';

export type RedisAccess = ReturnType<typeof redisAccess>;

/** The helpers on `redis`, a connection made by `connections`. */
export function redisAccess(redis: Redis, connections: RedisConnections) {
  // Every store script answers an integer (redis-scripts.ts).
  const run = async (s: RedisScript, keys: string[], args: Array<string | number>) =>
    (await s(redis, keys, args)) as number;
  /** A change an operator was told happened: it must survive a fail-over. */
  const durable = async <T>(write: Promise<T>): Promise<T> => {
    const result = await write;
    await connections.confirm(redis);
    return result;
  };
  const runDurable = (s: RedisScript, keys: string[], args: Array<string | number>) =>
    durable(run(s, keys, args));

  const readHash = async (key: string): Promise<Hash | undefined> => {
    const h = await redis.hgetall(key);
    return h.id === undefined ? undefined : h;
  };
  const readAll = async (ids: string[], keyOf: (id: string) => string): Promise<Hash[]> => {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keyOf(id));
    const results = (await pipeline.exec()) ?? [];
    const hashes: Hash[] = [];
    for (const [error, h] of results) {
      if (error) throw error;
      // A record deleted between ZRANGE and HGETALL reads as an empty hash: skip it.
      if ((h as Hash).id !== undefined) hashes.push(h as Hash);
    }
    return hashes;
  };
  return { redis, run, durable, runDurable, readHash, readAll };
}

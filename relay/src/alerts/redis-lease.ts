/**
 * The alert lease in Redis: one relay of the cluster evaluates the shared alert rules. Taken with
 * SET NX PX, kept by its holder with a compare-and-extend script, dropped on close; a holder that
 * dies loses it after `ttlMs` and another relay takes over with the stored incident book.
 */
import type { Redis } from 'ioredis';
import { defineScript } from '../store/redis-script.js';
import type { Lease } from './alert-engine.js';

const EXTEND = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);
const RELEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export function redisLease(redis: Redis, key: string, holder: string, ttlMs: number): Lease {
  return {
    async hold() {
      if ((await redis.set(key, holder, 'PX', ttlMs, 'NX')) === 'OK') return true;
      return Number(await EXTEND(redis, [key], [holder, ttlMs])) === 1;
    },
    async release() {
      await RELEASE(redis, [key], [holder]);
    },
  };
}

/**
 * One way to run a Lua script on Redis: by its SHA (EVALSHA, so the script's text is not sent
 * with every call), sending the text once (EVAL) when the server answers NOSCRIPT — after a
 * restart, a fail-over to a replica that never saw it, or a SCRIPT FLUSH. EVAL caches the script
 * again, so the next call is back on the SHA. Any other error is the caller's, as it came.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Runs the script with `keys` as KEYS and `args` as ARGV; resolves with Redis' reply as it is. */
export type RedisScript = (
  redis: Redis,
  keys: readonly string[],
  args?: ReadonlyArray<string | number>,
) => Promise<unknown>;

export function defineScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (redis, keys, args = []) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}

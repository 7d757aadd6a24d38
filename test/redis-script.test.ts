/**
 * The one Lua script runner (relay/src/store/redis-script.ts) against a real redis-server: by SHA
 * when the server has the script, the text sent once when it has not (a private server, so that
 * SCRIPT FLUSH does not slow the suites sharing the one on 6379).
 */
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { defineScript } from '../relay/src/store/redis-script.js';
import { track } from './support/cleanup.js';
import { startPrivateRedis } from './support/private-redis.js';

const INCR_BY = defineScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);

async function privateClient() {
  const server = await startPrivateRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 0 });
  track({ close: () => void redis.disconnect() });
  return redis;
}

describe('defineScript', () => {
  it('sends the text once after SCRIPT FLUSH, then runs by SHA again', async () => {
    const redis = await privateClient();
    const evalsha = vi.spyOn(redis, 'evalsha');
    const evalText = vi.spyOn(redis, 'eval');

    // A fresh server has never seen the script: NOSCRIPT, then EVAL.
    expect(await INCR_BY(redis, ['n'], [2])).toBe(2);
    expect(evalsha).toHaveBeenCalledTimes(1);
    expect(evalText).toHaveBeenCalledTimes(1);

    // EVAL cached it: the next call is one EVALSHA.
    expect(await INCR_BY(redis, ['n'], [3])).toBe(5);
    expect(evalsha).toHaveBeenCalledTimes(2);
    expect(evalText).toHaveBeenCalledTimes(1);

    // As after a restart or a fail-over to a replica that never loaded it.
    expect(await redis.script('FLUSH')).toBe('OK');
    expect(await INCR_BY(redis, ['n'], [4])).toBe(9);
    expect(evalsha).toHaveBeenCalledTimes(3);
    expect(evalText).toHaveBeenCalledTimes(2);
    // Counted once per call: the fallback never runs the script twice.
    expect(await redis.get('n')).toBe('9');
  });

  it("passes a script's own error through, without a second attempt", async () => {
    const redis = await privateClient();
    const FAILS = defineScript(`return redis.error_reply('ERR refused by the script')`);
    await FAILS(redis, []).catch(() => undefined); // loads it (NOSCRIPT → EVAL)
    const evalText = vi.spyOn(redis, 'eval');
    await expect(FAILS(redis, [])).rejects.toThrow('refused by the script');
    expect(evalText).not.toHaveBeenCalled();
  });

  it('passes a connection failure through', async () => {
    const server = await startPrivateRedis();
    const redis = new Redis(server.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    redis.on('error', () => undefined);
    track({ close: () => void redis.disconnect() });
    await redis.connect();
    await server.kill();
    const evalText = vi.spyOn(redis, 'eval');
    await expect(INCR_BY(redis, ['n'], [1])).rejects.toThrow();
    expect(evalText).not.toHaveBeenCalled();
  });

  it('runs a script with a hundred thousand arguments and non-ASCII keys', async () => {
    const redis = await privateClient();
    const SUM = defineScript(`
local s = 0
for i = 1, #ARGV do s = s + tonumber(ARGV[i]) end
redis.call('SET', KEYS[1], s)
return s
`);
    const args = Array.from({ length: 100_000 }, () => 1);
    expect(await SUM(redis, ['κλειδί:✓'], args)).toBe(100_000);
    expect(await redis.get('κλειδί:✓')).toBe('100000');
  });
});

/**
 * Several in-process relays sharing the test Redis under a private prefix (a cluster of their
 * own); every key of the run is dropped after the relays have closed.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { track } from './cleanup.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './relay.js';
import { keysUnder, REDIS_TEST_URL } from './store-backends.js';

export async function startTestCluster(
  size: number,
  clusterHeartbeatMs = 250,
  options: TestRelayOptions = {},
): Promise<{ prefix: string; relays: TestRelay[] }> {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  // Registered first, so it runs last: after the relays have closed, drop every key of the run.
  track({
    async close() {
      const redis = new Redis(REDIS_TEST_URL);
      const keys = await keysUnder(redis, prefix);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  });
  const relays: TestRelay[] = [];
  for (let i = 0; i < size; i++) {
    relays.push(
      await startTestRelay({ redisUrl: REDIS_TEST_URL, redisPrefix: prefix, clusterHeartbeatMs, ...options }),
    );
  }
  return { prefix, relays };
}

/**
 * Pins shared by the cluster: one Redis key per pin (`<key id>/<session name>`, or a
 * conversation's `<key id>/<hash>`), idle TTL 1 h.
 */
import type { Redis } from 'ioredis';
import type { StickyStore } from '../routing/sticky.js';

export function redisSticky(redis: Redis, prefix: string, ttlMs = 3_600_000): StickyStore {
  return {
    async get(name) {
      return (await redis.get(prefix + name)) ?? undefined;
    },
    set(name, agentKey) {
      redis.set(prefix + name, agentKey, 'PX', ttlMs).catch(() => undefined);
    },
  };
}

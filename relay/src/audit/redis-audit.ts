/**
 * The audit log in Redis, shared by every relay on the prefix: `<p>audit`, a list of JSON
 * entries, newest first, trimmed to `maxEntries` in the same transaction as each push. Entries
 * read back are checked (whoever can write to Redis could plant anything) and a bad one is
 * skipped, never shown raw.
 */
import { parseJsonAs } from '@arena-relay/shared';
import { closeRedis, connectOrThrow, type RedisConnections } from '../store/redis-connection.js';
import { type AuditLog, auditEntry, matchesAudit } from './audit-log.js';

/** Longest entry read back, bytes: a planted giant value is skipped unparsed. */
const MAX_ENTRY_BYTES = 16 * 1024;

export async function openRedisAudit(options: {
  redis: RedisConnections;
  prefix: string;
  maxEntries: number;
}): Promise<AuditLog> {
  const key = `${options.prefix}audit`;
  const redis = options.redis.create('audit');
  await connectOrThrow(redis, options.redis);
  return {
    async append(entry) {
      await redis
        .multi()
        .lpush(key, JSON.stringify(entry))
        .ltrim(key, 0, options.maxEntries - 1)
        .exec();
      await options.redis.confirm(redis);
    },
    async query(q) {
      const raw = await redis.lrange(key, 0, options.maxEntries - 1);
      const out = [];
      for (const text of raw) {
        if (text.length > MAX_ENTRY_BYTES) continue;
        const entry = parseJsonAs(auditEntry, text);
        if (!entry || !matchesAudit(entry, q)) continue;
        out.push(entry);
        if (out.length >= q.limit) break;
      }
      return out;
    },
    close: () => closeRedis(redis),
  };
}

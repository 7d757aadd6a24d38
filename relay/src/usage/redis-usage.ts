/**
 * Usage counters in Redis, shared by every relay on the prefix:
 *
 *   <p>usage:hours          zset of hours that have usage (member `YYYY-MM-DDTHH`, score hour index)
 *   <p>usage:h:<hour>       hash `<counter>\t<JSON [key id, client id, model]>` → integer
 *   <p>usage:batch:<id>     marker of an applied batch (expires after an hour)
 *
 * A batch is one Lua script (all or nothing) guarded by its marker, so a batch retried after a
 * lost reply is not counted twice.
 */
import { randomUUID } from 'node:crypto';
import { closeRedis, type RedisConnections } from '../store/redis-connection.js';
import { defineScript } from '../store/redis-script.js';
import {
  COUNTER_FIELDS,
  emptyCounters,
  HOUR_MS,
  type Hour,
  hourStart,
  matches,
  type UsageFilter,
  type UsageRow,
  type UsageStore,
} from './usage-store.js';

/**
 * KEYS: batch marker, hours zset, one hash per hour of the batch. ARGV: marker ttl (s), hour
 * count h, h × (hour, score), then triples (hash index 1..h, field, increment).
 */
const ADD = defineScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
local h = tonumber(ARGV[2])
for i = 1, h do
  redis.call('ZADD', KEYS[2], ARGV[2 + 2 * i], ARGV[1 + 2 * i])
end
local i = 3 + 2 * h
while i <= #ARGV do
  redis.call('HINCRBY', KEYS[2 + tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
  i = i + 3
end
return 1
`);
/** Rows per script call: keeps each call short, so other commands are not held up. */
const ROWS_PER_CALL = 200;
const MARKER_TTL_S = 3600;
const COUNTERS = new Set<string>(COUNTER_FIELDS);

export type RedisUsageOptions = {
  /** The relay's Redis connection factory (single node or Sentinel). */
  redis: RedisConnections;
  prefix: string;
};

export async function openRedisUsage(options: RedisUsageOptions): Promise<UsageStore> {
  const p = options.prefix;
  const hoursKey = `${p}usage:hours`;
  const hourKey = (hour: Hour) => `${p}usage:h:${hour}`;
  const redis = options.redis.create('usage');
  // Usage is written in the background and retried: a Redis that is down at start only delays it.
  await redis.connect().catch(() => undefined);

  /** One script call; `batchId` must be the same when the same rows are retried. */
  const addPart = async (batchId: string, rows: UsageRow[]): Promise<void> => {
    const hours = [...new Set(rows.map((r) => r.hour))];
    const index = new Map(hours.map((h, i) => [h, i + 1]));
    const args: Array<string | number> = [MARKER_TTL_S, hours.length];
    for (const hour of hours) args.push(hour, hourStart(hour) / HOUR_MS);
    for (const row of rows) {
      const dims = JSON.stringify([row.keyId, row.clientId, row.model]);
      for (const field of COUNTER_FIELDS) {
        if (row[field] !== 0) args.push(index.get(row.hour)!, `${field}\t${dims}`, row[field]);
      }
    }
    await ADD(redis, [`${p}usage:batch:${batchId}`, hoursKey, ...hours.map(hourKey)], args);
    // The recorder forgets a batch once this returns: it must be on the replicas by then.
    await options.redis.confirm(redis);
  };

  const batchIds = new WeakMap<UsageRow[], string>();
  let closed = false;
  return {
    async add(rows) {
      // The recorder retries a failed batch with the same array: the same ids, no double count.
      let batchId = batchIds.get(rows);
      if (!batchId) {
        batchId = randomUUID();
        batchIds.set(rows, batchId);
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_CALL) {
        await addPart(`${batchId}:${i}`, rows.slice(i, i + ROWS_PER_CALL));
      }
    },
    async query(filter: UsageFilter) {
      const min = filter.fromHour === undefined ? '-inf' : String(hourStart(filter.fromHour) / HOUR_MS);
      const max = filter.toHour === undefined ? '+inf' : `(${hourStart(filter.toHour) / HOUR_MS}`;
      const hours = await redis.zrangebyscore(hoursKey, min, max);
      if (hours.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const hour of hours) pipeline.hgetall(hourKey(hour));
      const results = (await pipeline.exec()) ?? [];
      const rows: UsageRow[] = [];
      results.forEach(([error, hash], i) => {
        if (error) throw error;
        const hour = hours[i]!;
        const byDims = new Map<string, UsageRow>();
        for (const [name, value] of Object.entries(hash as Record<string, string>)) {
          const tab = name.indexOf('\t');
          const field = name.slice(0, tab) as (typeof COUNTER_FIELDS)[number];
          const dims = name.slice(tab + 1);
          let row = byDims.get(dims);
          if (!row) {
            const [keyId, clientId, model] = JSON.parse(dims) as [string, string, string];
            row = { hour, keyId, clientId, model, ...emptyCounters() };
            byDims.set(dims, row);
          }
          if (COUNTERS.has(field)) row[field] = Number(value);
        }
        for (const row of byDims.values()) if (matches(row, filter)) rows.push(row);
      });
      return rows;
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeRedis(redis);
    },
  };
}

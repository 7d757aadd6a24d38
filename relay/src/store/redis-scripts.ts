/**
 * The Redis store's Lua scripts: every change that touches more than one key (a record and its
 * indexes) or reads before it writes runs as one script, which Redis executes atomically.
 * All keys are passed in KEYS (never built inside a script), so the scripts stay cluster-safe
 * as long as one prefix maps to one slot (use a `{hash tag}` in REDIS_PREFIX on a cluster).
 *
 * Conventions: a missing hash field means null; scripts answer 1 done, 0 no such record,
 * -1 conflict.
 */
import { defineScript } from './redis-script.js';

/** Applies ARGV from `first`: a count n, n field/value pairs to HSET, then fields to HDEL. */
const APPLY_FIELDS = `
local function apply_fields(key, first)
  local n = tonumber(ARGV[first])
  local i = first + 1
  while i < first + 1 + 2 * n do
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  while i <= #ARGV do
    redis.call('HDEL', key, ARGV[i])
    i = i + 1
  end
end
`;

/**
 * Creates a record and its unique indexes. KEYS: record, ids zset, sequence, then each index
 * (a hash entry → id). ARGV: id, each index's entry (in KEYS order), then field/value pairs.
 * Answers -i when the i-th index already holds its entry (nothing written). The zset score is a
 * sequence number, so listing order is creation order even within one millisecond.
 */
export const CREATE_RECORD = defineScript(
  `
local indexes = #KEYS - 3
for i = 1, indexes do
  if redis.call('HEXISTS', KEYS[3 + i], ARGV[1 + i]) == 1 then return -i end
end
for i = 1, indexes do redis.call('HSET', KEYS[3 + i], ARGV[1 + i], ARGV[1]) end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2 + indexes))
return 1
`,
);

/** KEYS: client, name index. ARGV: id, new name key or '', status or '', then apply_fields. */
export const UPDATE_CLIENT = defineScript(
  `${APPLY_FIELDS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local id = ARGV[1]
local new_key = ARGV[2]
if new_key ~= '' then
  local owner = redis.call('HGET', KEYS[2], new_key)
  if owner and owner ~= id then return -1 end
  local old = redis.call('HGET', KEYS[1], 'name_key')
  if old and old ~= new_key and redis.call('HGET', KEYS[2], old) == id then
    redis.call('HDEL', KEYS[2], old)
  end
  redis.call('HSET', KEYS[2], new_key, id)
  redis.call('HSET', KEYS[1], 'name_key', new_key)
end
local status = ARGV[3]
if status ~= '' then
  -- "active" for a client that never connected means enabled and still waiting: pending.
  if status == 'active' and not redis.call('HGET', KEYS[1], 'last_seen') then status = 'pending' end
  redis.call('HSET', KEYS[1], 'status', status)
end
apply_fields(KEYS[1], 4)
return 1
`,
);

/** KEYS: client, name index, token index, clients zset. ARGV: id. */
export const DELETE_CLIENT = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'name_key', 'token_hash', 'prev_token_hash')
if f[1] and redis.call('HGET', KEYS[2], f[1]) == ARGV[1] then redis.call('HDEL', KEYS[2], f[1]) end
if f[2] and redis.call('HGET', KEYS[3], f[2]) == ARGV[1] then redis.call('HDEL', KEYS[3], f[2]) end
if f[3] and redis.call('HGET', KEYS[3], f[3]) == ARGV[1] then redis.call('HDEL', KEYS[3], f[3]) end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
`,
);

/**
 * The current secret becomes the previous one (it stays in the index, accepted until a time the
 * caller checks); a previous one from an earlier rotation leaves the index. A revoked record
 * does not change. KEYS: record, hash index. ARGV: id, new hash, the record's field names for the
 * secret's hash, the previous hash and its grace end, the preview's field name, the new preview,
 * the grace end (ms epoch).
 */
const ROTATE_SECRET = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return -1 end
local f = redis.call('HMGET', KEYS[1], ARGV[3], ARGV[4])
if f[2] and f[2] ~= f[1] and redis.call('HGET', KEYS[2], f[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], f[2]) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2], ARGV[6], ARGV[7])
if f[1] then redis.call('HSET', KEYS[1], ARGV[4], f[1], ARGV[5], ARGV[8]) end
return 1
`;

/** See ROTATE_SECRET; the fields are token_hash, prev_token_hash, prev_token_until, token_preview. */
export const ROTATE_TOKEN = defineScript(ROTATE_SECRET);

/** See ROTATE_SECRET; the fields are key_hash, prev_key_hash, prev_key_until, preview. */
export const REGENERATE_KEY = defineScript(ROTATE_SECRET);

/** KEYS: client. ARGV: ISO time. */
export const TOUCH_CLIENT = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
if redis.call('HGET', KEYS[1], 'status') == 'pending' then redis.call('HSET', KEYS[1], 'status', 'active') end
return 1
`,
);

/** KEYS: client. ARGV: total, ok, failed, ms sum, decay, add (see client-stats.ts). */
export const ADD_OUTCOMES = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'total_requests', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'successful_requests', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'failed_requests', ARGV[3])
redis.call('HINCRBYFLOAT', KEYS[1], 'response_ms_total', ARGV[4])
local s = tonumber(redis.call('HGET', KEYS[1], 'recent_success') or '0')
local next_s = s * tonumber(ARGV[5]) + tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'recent_success', string.format('%.17g', next_s))
return 1
`,
);

/** KEYS: key. ARGV: apply_fields. Only a live (not revoked) key changes. */
export const UPDATE_KEY = defineScript(
  `${APPLY_FIELDS}
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
apply_fields(KEYS[1], 1)
return 1
`,
);

/** KEYS: key. ARGV: ISO time. */
export const TOUCH_KEY = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
return 1
`,
);

/** KEYS: key, key-hash index. ARGV: id, ISO time. */
export const REVOKE_KEY = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
for _, h in ipairs(redis.call('HMGET', KEYS[1], 'key_hash', 'prev_key_hash')) do
  if h and redis.call('HGET', KEYS[2], h) == ARGV[1] then redis.call('HDEL', KEYS[2], h) end
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[2])
return 1
`,
);

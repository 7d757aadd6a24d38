/**
 * The Limiter shared by every relay on one Redis: one Lua script per admission checks and counts
 * every window of a scope atomically on the server. Keys (all under REDIS_PREFIX):
 *
 *   <p>rl:<scope>:m          requests this minute window (PEXPIRE 60 s from its first request)
 *   <p>rl:<scope>:d:<day>    requests on UTC day <day> (days since the epoch)
 *   <p>rl:<scope>:t:<day>    tokens charged on UTC day <day>
 *   <p>rl:<scope>:c          zset of concurrency leases, scored by their expiry (Redis TIME)
 *
 * The day is taken from the relay's clock (relays are expected to keep NTP time); leases and the
 * minute window use Redis' own clock.
 *
 * Never hangs a request: commands are not queued while disconnected and time out after
 * `commandTimeoutMs`; then RATE_LIMIT_FAIL_MODE decides — `open` admits (and logs, at most once
 * per 10 s), `closed` refuses with 503.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RelayError } from '../errors/relay-error.js';
import { closeRedis, type RedisConnections } from '../store/redis-connection.js';
import { defineScript } from '../store/redis-script.js';
import {
  type Counts,
  DAY_MS,
  type Decision,
  decide,
  type Limiter,
  type LimitSpec,
  utcDay,
} from './limiter.js';

export type FailMode = 'open' | 'closed';

export type RedisLimiterOptions = {
  /** The relay's Redis connection factory (single node or Sentinel). */
  redis: RedisConnections;
  prefix: string;
  /** Longest life of a concurrency lease, ms. */
  leaseTtlMs: number;
  failMode: FailMode;
  /** Per command, ms (default 500). */
  commandTimeoutMs?: number;
  logger?: Logger;
};

/**
 * KEYS: minute, day, leases, tokens. ARGV: rpm, rpd, max concurrency, tokens per day (0 = no
 * limit), lease id, lease ttl ms, day end (ms epoch). Answers {admitted, minute used, minute
 * ttl ms, day used, in flight, tokens used}: the counts after the admission, or as they stood
 * when refused.
 */
const ACQUIRE = defineScript(`
-- TIME before writes: replicate effects, not the script (a no-op from Redis 7 on).
redis.replicate_commands()
local rpm, rpd, maxc, tpd = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lease_ttl, day_end = tonumber(ARGV[6]), tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local m_used, m_ttl, d_used, inflight, t_used = 0, 60000, 0, 0, 0
if rpm > 0 then
  m_used = tonumber(redis.call('GET', KEYS[1]) or '0')
  if m_used > 0 then
    m_ttl = redis.call('PTTL', KEYS[1])
    -- A window without an expiry would never close: give it one.
    if m_ttl < 0 then
      m_ttl = 60000
      redis.call('PEXPIRE', KEYS[1], m_ttl)
    end
  end
end
if rpd > 0 then d_used = tonumber(redis.call('GET', KEYS[2]) or '0') end
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  inflight = redis.call('ZCARD', KEYS[3])
end
if tpd > 0 then t_used = tonumber(redis.call('GET', KEYS[4]) or '0') end
if (rpm > 0 and m_used >= rpm) or (rpd > 0 and d_used >= rpd) or (maxc > 0 and inflight >= maxc)
  or (tpd > 0 and t_used >= tpd) then
  return {0, m_used, m_ttl, d_used, inflight, t_used}
end
if rpm > 0 then
  m_used = redis.call('INCR', KEYS[1])
  if m_used == 1 then redis.call('PEXPIRE', KEYS[1], 60000) end
end
if rpd > 0 then
  d_used = redis.call('INCR', KEYS[2])
  if d_used == 1 then redis.call('PEXPIREAT', KEYS[2], day_end + 60000) end
end
if maxc > 0 then
  redis.call('ZADD', KEYS[3], now + lease_ttl, ARGV[5])
  redis.call('PEXPIRE', KEYS[3], lease_ttl)
  inflight = inflight + 1
end
return {1, m_used, m_ttl, d_used, inflight, t_used}
`);

/** KEYS: minute, day. Takes one request back from each that exists and is above zero. */
const REFUND = defineScript(`
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
`);

/** How often a Redis failure is logged at most, ms. */
const LOG_EVERY_MS = 10_000;

export class RedisLimiter implements Limiter {
  private readonly redis: Redis;
  private lastLogged = 0;
  private closed = false;

  private constructor(private readonly options: RedisLimiterOptions) {
    this.redis = options.redis.create('limiter', {
      commandTimeoutMs: options.commandTimeoutMs ?? 500,
      // A request must not wait for a reconnect: fail at once and let the fail mode answer.
      offlineQueue: false,
      retries: 0,
      onError: (error) => this.note(error),
    });
  }

  /**
   * Connects; when Redis cannot be reached the limiter still starts (it keeps reconnecting) and
   * answers by its fail mode until Redis is back.
   */
  static async open(options: RedisLimiterOptions): Promise<RedisLimiter> {
    const limiter = new RedisLimiter(options);
    await limiter.redis.connect().catch((error: unknown) => limiter.note(error));
    return limiter;
  }

  async acquire(scope: string, spec: LimitSpec, leaseId: string): Promise<Decision> {
    const now = Date.now();
    const { day, endsAt } = utcDay(now);
    const k = this.keys(scope, day);
    const args = [
      spec.requestsPerMinute ?? 0,
      spec.requestsPerDay ?? 0,
      spec.maxConcurrency ?? 0,
      spec.tokensPerDay ?? 0,
      leaseId,
      this.options.leaseTtlMs,
      endsAt,
    ];
    let reply: number[];
    try {
      reply = (await ACQUIRE(this.redis, [k.minute, k.day, k.leases, k.tokens], args)) as number[];
    } catch (error) {
      return this.unavailable(error);
    }
    const [admitted, minuteUsed, minuteResetMs, dayUsed, inFlight, tokensUsed] = reply.map(Number);
    const counts: Counts = {
      minuteUsed: minuteUsed ?? 0,
      minuteResetMs: minuteResetMs ?? 0,
      dayUsed: dayUsed ?? 0,
      dayResetMs: endsAt - now,
      inFlight: inFlight ?? 0,
      tokensUsed: tokensUsed ?? 0,
    };
    const { snapshot, refusedBy, retryAfterMs } = decide(spec, counts, admitted === 1);
    if (admitted === 1) return { ok: true, snapshot, leased: spec.maxConcurrency !== null };
    return { ok: false, snapshot, refusedBy, retryAfterMs };
  }

  async release(scope: string, leaseId: string): Promise<void> {
    try {
      await this.redis.zrem(`${this.options.prefix}rl:${scope}:c`, leaseId);
    } catch (error) {
      // The lease expires by itself (leaseTtlMs); until then it holds one slot.
      this.note(error);
    }
  }

  async refund(scope: string, spec: LimitSpec): Promise<void> {
    const k = this.keys(scope, utcDay(Date.now()).day);
    const keys = [
      ...(spec.requestsPerMinute === null ? [] : [k.minute]),
      ...(spec.requestsPerDay === null ? [] : [k.day]),
    ];
    if (keys.length === 0) return;
    try {
      await REFUND(this.redis, keys);
    } catch (error) {
      // The request stays counted: the window forgets it when it closes.
      this.note(error);
    }
  }

  async addTokens(scope: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    const { day, endsAt } = utcDay(Date.now());
    const key = this.keys(scope, day).tokens;
    try {
      await this.redis
        .multi()
        .incrby(key, tokens)
        .pexpireat(key, endsAt + DAY_MS)
        .exec();
    } catch (error) {
      this.note(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeRedis(this.redis);
  }

  private keys(scope: string, day: number) {
    const base = `${this.options.prefix}rl:${scope}`;
    return { minute: `${base}:m`, day: `${base}:d:${day}`, tokens: `${base}:t:${day}`, leases: `${base}:c` };
  }

  private unavailable(error: unknown): Decision {
    this.note(error);
    if (this.options.failMode === 'open') return { ok: true, degraded: true, leased: false };
    throw new RelayError('internal_error', 'rate limiter unavailable; retry shortly', {
      status: 503,
      retryAfter: 1,
      shouldRetry: true,
      cause: error,
    });
  }

  private note(error: unknown): void {
    const now = Date.now();
    if (now - this.lastLogged < LOG_EVERY_MS) return;
    this.lastLogged = now;
    this.options.logger?.warn(
      { err: error, failMode: this.options.failMode },
      'rate limiter cannot reach Redis; answering by RATE_LIMIT_FAIL_MODE',
    );
  }
}

/**
 * Rate limits and usage metering, built once per relay: in memory and SQLite for an embedded
 * relay, Redis when `REDIS_URL` or `REDIS_SENTINELS` is set (limits and usage then span every relay on the prefix).
 * `observer` is what the Exchange reports to: it records the request's usage. (The request's own
 * admission and meter are handles the Exchange holds and settles: see proxy/exchange.ts.)
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/load-config.js';
import { ClientLimits } from '../limits/client-limits.js';
import type { Limiter } from '../limits/limiter.js';
import { MemoryLimiter } from '../limits/memory-limiter.js';
import { RateLimits } from '../limits/rate-limits.js';
import { RedisLimiter } from '../limits/redis-limiter.js';
import type { ExchangeObserver } from '../proxy/observer.js';
import type { RedisConnections } from '../store/redis-connection.js';
import type { Store } from '../store/store.js';
import { UsageMeter } from './meter.js';
import { UsageRecorder } from './recorder.js';
import { openRedisUsage } from './redis-usage.js';
import type { PriceTable } from './report.js';
import { openSqliteUsage } from './sqlite-usage.js';

export type Accounting = {
  limits: RateLimits;
  meter: UsageMeter;
  usage: UsageRecorder;
  prices: PriceTable;
  observer: ExchangeObserver;
  /** Writes buffered usage and closes the connections. Idempotent. */
  close(): Promise<void>;
};

/**
 * A concurrency lease outlives the longest request by this much, ms: the request timeout starts
 * after the body is read, which the HTTP server bounds separately (60 s).
 */
const LEASE_MARGIN_MS = 120_000;

export async function openAccounting(options: {
  config: RelayConfig;
  store: Store;
  /** Set when the relay shares a Redis: limits and usage live there. */
  redis: RedisConnections | undefined;
  logger: Logger;
}): Promise<Accounting> {
  const { config, store, logger, redis } = options;
  const leaseTtlMs = config.requestTimeoutMs + LEASE_MARGIN_MS;
  const log = logger.child({ component: 'accounting' });
  let limiter: Limiter;
  let recorder: UsageRecorder;
  if (redis) {
    const shared = { redis, prefix: config.redisPrefix };
    limiter = await RedisLimiter.open({
      ...shared,
      logger: log,
      leaseTtlMs,
      failMode: config.rateLimitFailMode,
    });
    recorder = new UsageRecorder(await openRedisUsage(shared), log);
  } else {
    limiter = new MemoryLimiter(leaseTtlMs);
    recorder = new UsageRecorder(openSqliteUsage(config.dataDir), log);
  }
  const limits = new RateLimits(limiter, new ClientLimits(store), log);
  const meter = new UsageMeter(recorder);
  let closing: Promise<void> | undefined;
  return {
    limits,
    meter,
    usage: recorder,
    prices: config.priceTable,
    observer: meter,
    close() {
      closing ??= Promise.all([recorder.close(), limits.close()]).then(() => undefined);
      return closing;
    },
  };
}

/**
 * Rate limits of API keys and bridge clients, applied to consumer requests.
 *
 * Life of a request: `admitKey` when it arrives (counts it against its key; 429 when over) gives
 * the request its Admission (admission.ts), which the Exchange owns: its `clientGate` each time
 * the router picks an agent (counts it against the agent's client; a refused client is routed
 * around), `attemptFailed` when an agent failed before the first byte, `settle` when the request
 * ended on any path, or `refund` instead when the relay refused it itself before routing.
 */
import type { Logger } from 'pino';
import type { RelayError } from '../errors/relay-error.js';
import type { ApiKeyRecord } from '../store/store.js';
import { Admission } from './admission.js';
import type { ClientLimits } from './client-limits.js';
import { rateLimitHeaders, refusalError } from './headers.js';
import { hasLimits, type Limiter, type LimitSpec } from './limiter.js';

export type KeyAdmission =
  | {
      /** `x-ratelimit-*` headers for the answer, whatever it turns out to be. */
      headers: Record<string, string>;
      /** What the request holds until it ends: to be settled once, whatever happens to it. */
      admission: Admission;
      refusal?: undefined;
    }
  | {
      headers: Record<string, string>;
      admission?: undefined;
      /** A limit refuses the request: throw it (after sending the headers). */
      refusal: RelayError;
    };

const NO_HEADERS: Record<string, string> = Object.freeze({});

export function keySpec(key: ApiKeyRecord): LimitSpec {
  return {
    requestsPerMinute: key.limits.requests_per_minute,
    requestsPerDay: key.limits.requests_per_day,
    maxConcurrency: key.limits.max_concurrency,
    tokensPerDay: key.limits.tokens_per_day,
  };
}

export class RateLimits {
  constructor(
    private readonly limiter: Limiter,
    private readonly clients: ClientLimits,
    private readonly logger?: Logger,
  ) {}

  /** Counts request `requestId` against its key; an admitted request must be settled once. */
  async admitKey(key: ApiKeyRecord, requestId: string): Promise<KeyAdmission> {
    const spec = keySpec(key);
    const init = { requestId, limiter: this.limiter, clients: this.clients, logger: this.logger };
    if (!hasLimits(spec)) {
      const admission = new Admission({
        ...init,
        keyLease: undefined,
        tokensScope: undefined,
        counted: undefined,
      });
      return { headers: NO_HEADERS, admission };
    }
    const scope = `key:${key.id}`;
    const decision = await this.limiter.acquire(scope, spec, requestId);
    if (!decision.ok) {
      return {
        headers: rateLimitHeaders(decision.snapshot),
        refusal: refusalError('API key', spec, decision.refusedBy, decision.retryAfterMs),
      };
    }
    const degraded = 'degraded' in decision;
    const admission = new Admission({
      ...init,
      keyLease: decision.leased ? { scope, id: requestId } : undefined,
      tokensScope: spec.tokensPerDay === null ? undefined : scope,
      counted: degraded ? undefined : { scope, spec },
    });
    return { headers: degraded ? NO_HEADERS : rateLimitHeaders(decision.snapshot), admission };
  }

  async close(): Promise<void> {
    await this.limiter.close();
  }
}

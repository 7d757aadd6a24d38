/**
 * Rate limits of API keys and bridge clients, applied to consumer requests.
 *
 * Life of a request: `admitKey` when it arrives (counts it against its key; 429 when over),
 * `clientGate` each time the router picks an agent (counts it against the agent's client; a
 * refused client is routed around), `attemptFailed` when an agent failed before the first byte
 * (that client's concurrency slot is given back at once), `settle` when the request ended on any
 * path (every concurrency slot back, tokens charged to `tokens_per_day`), or `refund` instead
 * when the relay refused it itself before routing (a prompt no bridge takes: it counts nowhere).
 */
import type { Logger } from 'pino';
import type { RelayError } from '../errors/relay-error.js';
import type { ClientGate, ClientVerdict } from '../routing/router.js';
import type { ApiKeyRecord } from '../store/store.js';
import type { ClientLimits } from './client-limits.js';
import { rateLimitHeaders, refusalError } from './headers.js';
import { hasLimits, type Limiter, type LimitSpec } from './limiter.js';

type Lease = { scope: string; id: string; agentId?: string };

/**
 * What one consumer request holds from admission until `settle`; `counted`: the key's windows it
 * was counted in (for `refund`).
 */
type Held = {
  leases: Lease[] | undefined;
  tokensScope: string | undefined;
  counted?: { scope: string; spec: LimitSpec };
};

export type KeyAdmission = {
  /** `x-ratelimit-*` headers for the answer, whatever it turns out to be. */
  headers: Record<string, string>;
  /** Set when a limit refuses the request: throw it (after sending the headers). */
  refusal?: RelayError;
};

const ADMITTED: ClientVerdict = { admitted: true };
const UNLIMITED: KeyAdmission = Object.freeze({ headers: Object.freeze({}) });

export function keySpec(key: ApiKeyRecord): LimitSpec {
  return {
    requestsPerMinute: key.limits.requests_per_minute,
    requestsPerDay: key.limits.requests_per_day,
    maxConcurrency: key.limits.max_concurrency,
    tokensPerDay: key.limits.tokens_per_day,
  };
}

export class RateLimits {
  /** Requests between `admitKey` and `settle`. */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly limiter: Limiter,
    private readonly clients: ClientLimits,
    private readonly logger?: Logger,
  ) {}

  /** Requests admitted and not yet settled (for tests and stats). */
  get inFlight(): number {
    return this.held.size;
  }

  /**
   * Counts request `requestId` against its key. Every admitted request must be `settle`d once,
   * whatever happens to it (settling twice is harmless).
   */
  async admitKey(key: ApiKeyRecord, requestId: string): Promise<KeyAdmission> {
    const spec = keySpec(key);
    if (!hasLimits(spec)) {
      this.held.set(requestId, { leases: undefined, tokensScope: undefined });
      return UNLIMITED;
    }
    const scope = `key:${key.id}`;
    const decision = await this.limiter.acquire(scope, spec, requestId);
    if (!decision.ok) {
      return {
        headers: rateLimitHeaders(decision.snapshot),
        refusal: refusalError('API key', spec, decision.refusedBy, decision.retryAfterMs),
      };
    }
    this.held.set(requestId, {
      leases: decision.leased ? [{ scope, id: requestId }] : undefined,
      tokensScope: spec.tokensPerDay === null ? undefined : scope,
      counted: 'degraded' in decision ? undefined : { scope, spec },
    });
    return 'degraded' in decision ? UNLIMITED : { headers: rateLimitHeaders(decision.snapshot) };
  }

  /** For the router: may the agent's client take this request? */
  readonly clientGate: ClientGate = async (agent, request) => {
    const found = this.clients.get(agent.clientId);
    const spec = found instanceof Promise ? await found : found;
    if (!spec || !hasLimits(spec)) return ADMITTED;
    const scope = `client:${agent.clientId}`;
    const leaseId = `${request.requestId ?? 'anon'}/${agent.id}`;
    const decision = await this.limiter.acquire(scope, spec, leaseId);
    if (!decision.ok) {
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    }
    if (decision.leased) {
      const held = request.requestId === undefined ? undefined : this.held.get(request.requestId);
      // Settled while we asked (the consumer left), or never admitted: nobody would give it back.
      const lease = { scope, id: leaseId, agentId: agent.id };
      if (held) held.leases = held.leases ? [...held.leases, lease] : [lease];
      else void this.limiter.release(scope, leaseId);
    }
    return ADMITTED;
  };

  /** An attempt on `agentId` failed before the first byte: its client's slot is free again. */
  attemptFailed(requestId: string, agentId: string): void {
    const held = this.held.get(requestId);
    if (!held?.leases) return;
    held.leases = held.leases.filter((lease) => {
      if (lease.agentId !== agentId) return true;
      void this.limiter.release(lease.scope, lease.id);
      return false;
    });
  }

  /**
   * The relay refused the request itself before routing it (its prompt is longer than every
   * bridge takes): settles it, and it counts against none of its key's windows.
   */
  refund(requestId: string): void {
    const counted = this.held.get(requestId)?.counted;
    this.settle(requestId);
    if (counted) {
      this.limiter.refund(counted.scope, counted.spec).catch((error: unknown) => {
        this.logger?.warn({ err: error }, 'could not refund a refused request');
      });
    }
  }

  /** The request ended: releases its slots and charges `tokens` to its key's daily budget. */
  settle(requestId: string, tokens = 0): void {
    const held = this.held.get(requestId);
    if (!held) return;
    this.held.delete(requestId);
    for (const lease of held.leases ?? []) void this.limiter.release(lease.scope, lease.id);
    if (held.tokensScope && tokens > 0) {
      this.limiter.addTokens(held.tokensScope, tokens).catch((error: unknown) => {
        this.logger?.warn({ err: error }, 'could not charge tokens');
      });
    }
  }

  async close(): Promise<void> {
    await this.limiter.close();
  }
}

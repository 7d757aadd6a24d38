/**
 * What one admitted consumer request holds from its key's admission until it ends: the leases
 * it took (its key's concurrency slot, a slot of each client an agent of which it was sent to)
 * and where its tokens are charged. The Exchange owns it and settles it once; nothing looks a
 * request up by its id.
 */
import type { Logger } from 'pino';
import type { RoutableAgent } from '../routing/routable-agent.js';
import type { ClientVerdict } from '../routing/router.js';
import type { ClientLimits } from './client-limits.js';
import { hasLimits, type Limiter, type LimitSpec } from './limiter.js';

type Lease = { scope: string; id: string; agentId?: string };

const ADMITTED: ClientVerdict = { admitted: true };

export type AdmissionInit = {
  requestId: string;
  limiter: Limiter;
  clients: ClientLimits;
  /** The key's lease taken at admission, if its limits have a concurrency cap. */
  keyLease: Lease | undefined;
  /** Where `settle` charges tokens (the key's scope, when it has a daily token budget). */
  tokensScope: string | undefined;
  /** The key's windows the request was counted in (for `refund`). */
  counted: { scope: string; spec: LimitSpec } | undefined;
  logger?: Logger | undefined;
};

export class Admission {
  private leases: Lease[];
  private settled = false;

  constructor(private readonly init: AdmissionInit) {
    this.leases = init.keyLease ? [init.keyLease] : [];
  }

  /** For the router: may the agent's client take this request? Counts it against the client. */
  readonly clientGate = async (agent: RoutableAgent): Promise<ClientVerdict> => {
    const { clients, limiter, requestId } = this.init;
    const found = clients.get(agent.clientId);
    const spec = found instanceof Promise ? await found : found;
    if (!spec || !hasLimits(spec)) return ADMITTED;
    const scope = `client:${agent.clientId}`;
    const leaseId = `${requestId}/${agent.id}`;
    const decision = await limiter.acquire(scope, spec, leaseId);
    if (!decision.ok) {
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    }
    if (decision.leased) {
      // Settled while we asked (the consumer left): nobody else would give it back.
      if (this.settled) void limiter.release(scope, leaseId);
      else this.leases.push({ scope, id: leaseId, agentId: agent.id });
    }
    return ADMITTED;
  };

  /** An attempt on `agentId` failed before the first byte: its client's slot is free again. */
  attemptFailed(agentId: string): void {
    this.leases = this.leases.filter((lease) => {
      if (lease.agentId !== agentId) return true;
      void this.init.limiter.release(lease.scope, lease.id);
      return false;
    });
  }

  /**
   * The relay refused the request itself before routing it (its prompt is longer than every
   * bridge takes): settles it, and it counts against none of its key's windows.
   */
  refund(): void {
    if (this.settled) return;
    this.settle();
    const { counted, limiter, logger } = this.init;
    if (!counted) return;
    limiter.refund(counted.scope, counted.spec).catch((error: unknown) => {
      logger?.warn({ err: error }, 'could not refund a refused request');
    });
  }

  /** The request ended: releases its slots and charges `tokens` to its key's daily budget. Once. */
  settle(tokens = 0): void {
    if (this.settled) return;
    this.settled = true;
    const { limiter, tokensScope, logger } = this.init;
    for (const lease of this.leases) void limiter.release(lease.scope, lease.id);
    this.leases = [];
    if (tokensScope && tokens > 0) {
      limiter.addTokens(tokensScope, tokens).catch((error: unknown) => {
        logger?.warn({ err: error }, 'could not charge tokens');
      });
    }
  }
}

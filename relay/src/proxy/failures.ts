/**
 * One table for what a failed stream means: the consumer's HTTP error, whether another agent is
 * tried, and whom it counts against (the Route feeds that into the cooldown: routing/route.ts).
 */
import type { FailureScope } from '@arena-relay/shared';
import { bridgeTooLong } from '../errors/prompt-too-long.js';
import { RelayError } from '../errors/relay-error.js';
import type { StreamFailure } from '../tunnel/stream.js';

/** Failures worth another agent, as long as nothing reached the consumer yet. */
export function isRetryable(failure: StreamFailure): boolean {
  return failure.code !== 'upstream_rejected' && failure.code !== 'cancelled';
}

/**
 * Who a failure is on. The agent says so in its `error` frame (it reads the bridge's words);
 * for an agent too old to say, the code decides: a rejection is the request's, an upstream error
 * or timeout the model's (LMArena said no to this model), anything else the bridge's.
 * `undefined`: nobody's — a cancel, a busy agent, or a socket that went away (a reconnected agent
 * keeps its identity and must not find itself benched for its old socket's death).
 */
export function failureScope(failure: StreamFailure): FailureScope | undefined {
  switch (failure.code) {
    case 'cancelled':
    case 'busy':
    case 'agent_gone':
      return undefined;
    case 'upstream_rejected':
      // Whatever the agent claims, a rejection never benches anyone.
      return 'request';
    case 'upstream_error':
    case 'upstream_timeout':
    case 'upstream_unavailable':
      return failure.scope ?? (failure.code === 'upstream_unavailable' ? 'bridge' : 'model');
    case 'protocol_error':
    case 'internal':
      return 'bridge';
  }
}

/**
 * Failures that count against the agent's health: only bridge-wide ones (tab gone, Cloudflare,
 * process down). A request's own fault never does; a model's benches that model on that agent
 * at most (see `countsAgainstModel`), never the agent for every consumer on every model.
 */
export function countsAgainstAgent(failure: StreamFailure): boolean {
  return failureScope(failure) === 'bridge';
}

/** Failures that count against one model on the agent that served it. */
export function countsAgainstModel(failure: StreamFailure): boolean {
  return failureScope(failure) === 'model';
}

/** Seconds to tell the consumer to wait, from LMArena's retry-after when the agent passed it on. */
function retryAfterSeconds(failure: StreamFailure, fallback: number): number {
  return failure.retryAfterMs === undefined ? fallback : Math.max(1, Math.ceil(failure.retryAfterMs / 1000));
}

/** The consumer-facing error for a stream failure (the bridge's own message is kept). */
export function failureToError(failure: StreamFailure): RelayError {
  switch (failure.code) {
    case 'busy':
      return new RelayError('no_agents_available', `bridge busy: ${failure.message}`, { retryAfter: 1 });
    case 'upstream_unavailable':
      return new RelayError('upstream_unavailable', `bridge unavailable: ${failure.message}`, {
        retryAfter: retryAfterSeconds(failure, 5),
      });
    case 'upstream_error':
      return new RelayError('upstream_error', `bridge error: ${failure.message}`);
    case 'upstream_rejected': {
      // The bridge's own "Prompt too long": the same answer as the relay's check gives.
      const tooLong = bridgeTooLong(failure.message);
      if (tooLong) return tooLong;
      const status = failure.status && failure.status >= 400 && failure.status < 500 ? failure.status : 400;
      return new RelayError('upstream_rejected', `bridge rejected the request: ${failure.message}`, {
        status,
      });
    }
    case 'upstream_timeout':
      return new RelayError('timeout', `bridge timed out: ${failure.message}`);
    case 'agent_gone':
    case 'cancelled':
    case 'protocol_error':
    case 'internal':
      return new RelayError('agent_unavailable', `bridge agent failed: ${failure.message}`);
  }
}

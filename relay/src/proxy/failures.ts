/**
 * One table for what a failed stream means to the consumer: its HTTP error, and whether another
 * agent is tried. What counts against the agent's health is the Route's (routing/route.ts).
 */
import { RelayError } from '../errors/relay-error.js';
import type { StreamFailure } from '../tunnel/stream.js';

/** Failures worth another agent, as long as nothing reached the consumer yet. */
export function isRetryable(failure: StreamFailure): boolean {
  return failure.code !== 'upstream_rejected' && failure.code !== 'cancelled';
}

/** The consumer-facing error for a stream failure (the bridge's own message is kept). */
export function failureToError(failure: StreamFailure): RelayError {
  switch (failure.code) {
    case 'busy':
      return new RelayError('no_agents_available', `bridge busy: ${failure.message}`, { retryAfter: 1 });
    case 'upstream_unavailable':
      return new RelayError('upstream_unavailable', `bridge unavailable: ${failure.message}`, {
        retryAfter: 5,
      });
    case 'upstream_error':
      return new RelayError('upstream_error', `bridge error: ${failure.message}`);
    case 'upstream_rejected': {
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

/**
 * How a proxied request ended, and what that counts as: decided once, here, when the Exchange
 * finishes, and read from the finished record by everyone who counts (usage, `/api/stats`,
 * Prometheus, the client's health, the request log). No second word list anywhere.
 */
import { ERRORS, type RelayErrorCode } from '../errors/relay-error.js';

/** `ok`, the consumer left (`consumer_disconnected`), or the RelayError code it failed with. */
export type RequestOutcome = 'ok' | 'consumer_disconnected' | RelayErrorCode;

/**
 * What an outcome counts as:
 * - `ok`: the consumer got its answer;
 * - `failed`: the relay or a bridge let the consumer down (5xx: no bridge ready, timeout, bridge error);
 * - `consumer_error`: the consumer's own doing (a 4xx: bad request, unknown model, auth, rate
 *   limit, prompt too long, a request the bridge rejected) — never counted as a failure;
 * - `cancelled`: the consumer left before the end.
 * A success rate is always ok / (ok + failed).
 */
export type OutcomeClass = 'ok' | 'failed' | 'consumer_error' | 'cancelled';

export const OUTCOME_CLASSES: readonly OutcomeClass[] = ['ok', 'failed', 'consumer_error', 'cancelled'];

/**
 * The class of `outcome`. The error table decides, not a list kept here: a code whose table
 * status is 4xx is the consumer's (an upstream 413 passed through as 413 stays what its code is).
 */
export function classifyOutcome(outcome: RequestOutcome): OutcomeClass {
  if (outcome === 'ok') return 'ok';
  if (outcome === 'consumer_disconnected') return 'cancelled';
  const { status } = ERRORS[outcome];
  return status >= 400 && status < 500 ? 'consumer_error' : 'failed';
}

/** ok / (ok + failed); null before there is either. */
export function successRate(ok: number, failed: number): number | null {
  return ok + failed === 0 ? null : ok / (ok + failed);
}

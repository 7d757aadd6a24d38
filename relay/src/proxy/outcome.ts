/**
 * How a proxied request ended, and what that counts as: decided once, here, when the Exchange
 * finishes, and read from the finished record by everyone who counts (usage, `/api/stats`,
 * Prometheus, the client's health, the request log). No second word list anywhere; what each
 * class means, and the success rate, are in metrics/figures.ts.
 */
import { ERRORS, type RelayErrorCode } from '../errors/relay-error.js';
import type { OutcomeClass } from '../metrics/figures.js';

export type { OutcomeClass } from '../metrics/figures.js';

/** `ok`, the consumer left (`consumer_disconnected`), or the RelayError code it failed with. */
export type RequestOutcome = 'ok' | 'consumer_disconnected' | RelayErrorCode;

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

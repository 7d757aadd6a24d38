/**
 * The one definition of the figures every view shows (`/api/stats`, `/api/clients`, `/metrics`,
 * the dashboard): what a finished request counts as, and the success rate. No imports, so the
 * dashboard's type-check can read it too.
 */

/**
 * What a request's outcome counts as (classified once, by proxy/outcome.ts):
 * - `ok`: the consumer got its answer;
 * - `failed`: the relay or a bridge let the consumer down (5xx: no bridge ready, timeout, bridge error);
 * - `consumer_error`: the consumer's own doing (a 4xx: bad request, unknown model, auth, rate
 *   limit, prompt too long, a request the bridge rejected) — never counted as a failure;
 * - `cancelled`: the consumer left before the end.
 */
export type OutcomeClass = 'ok' | 'failed' | 'consumer_error' | 'cancelled';

export const OUTCOME_CLASSES = [
  'ok',
  'failed',
  'consumer_error',
  'cancelled',
] as const satisfies readonly OutcomeClass[];

/** ok / (ok + failed): consumer errors and cancels count neither way. Null before either. */
export function successRate(ok: number, failed: number): number | null {
  return ok + failed === 0 ? null : ok / (ok + failed);
}

/**
 * Which agents may take an attempt, model by model: a request names one model or several
 * (fallbacks, tried in order), and the first model with an agent fit to serve it wins. "Fit":
 * advertises the model, is routable, was not tried for this request, is not benched, takes a
 * prompt this long, and its client did not refuse the request. When no model has one, the error
 * says why for all of them.
 */
import { truncateChars } from '@arena-relay/shared';
import { promptTooLong } from '../errors/prompt-too-long.js';
import { RelayError } from '../errors/relay-error.js';
import { fitsLimit } from './prompt-limit.js';
import type { RoutableAgent } from './routable-agent.js';

/** The model chosen and its fit agents, on this relay and on others. */
export type Candidates = { model: string; local: RoutableAgent[]; remote: RoutableAgent[] };

export type CandidateRules = {
  /** Routable, not tried, not benched: whatever does not depend on the model. */
  fit: (agent: RoutableAgent, model: string) => boolean;
  /** Clients the client gate refused for this attempt, with their retry-after (s). */
  refusedClients?: ReadonlyMap<string, number> | undefined;
  /** The prompt's length as bridges count it (prompt-limit.ts); undefined: not checked. */
  promptChars?: number | undefined;
};

export function chooseCandidates(
  models: readonly string[],
  local: readonly RoutableAgent[],
  remote: readonly RoutableAgent[],
  rules: CandidateRules,
): Candidates | { error: RelayError } {
  if (models.length === 0) {
    return { error: new RelayError('model_not_found', 'the request names no model', { param: 'model' }) };
  }
  const refused = rules.refusedClients;
  let served = false;
  let fitted = false;
  /** The largest limit among agents that would fit but for the prompt's length. */
  let overLimit: number | undefined;
  const chars = rules.promptChars;
  for (const model of models) {
    const serves = (a: RoutableAgent) => a.models.has(model);
    const fits = (a: RoutableAgent) => {
      if (!serves(a) || !rules.fit(a, model)) return false;
      if (fitsLimit(a, chars)) return true;
      overLimit = Math.max(overLimit ?? 0, a.promptLimitChars!);
      return false;
    };
    let localFit = local.filter(fits);
    let remoteFit = remote.filter(fits);
    if (localFit.length === 0 && remoteFit.length === 0) {
      served ||= local.some(serves) || remote.some(serves);
      continue;
    }
    served = fitted = true;
    if (refused && refused.size > 0) {
      localFit = localFit.filter((a) => !refused.has(a.clientId));
      remoteFit = remoteFit.filter((a) => !refused.has(a.clientId));
      if (localFit.length === 0 && remoteFit.length === 0) continue;
    }
    return { model, local: localFit, remote: remoteFit };
  }
  const named = nameModels(models);
  if (!served) {
    const message =
      models.length === 1
        ? `The model ${named} is not served by any connected bridge`
        : `None of the models ${named} is served by any connected bridge`;
    return { error: new RelayError('model_not_found', message, { param: 'model' }) };
  }
  if (!fitted && overLimit !== undefined && chars !== undefined) {
    return { error: promptTooLong(chars, overLimit, models) };
  }
  if (!fitted) {
    return {
      error: new RelayError('no_agents_available', `no bridge serving ${named} is ready; try again shortly`, {
        retryAfter: 5,
      }),
    };
  }
  return {
    error: new RelayError(
      'rate_limit_exceeded',
      `every bridge serving ${named} is at its own rate limit; retry later`,
      { retryAfter: Math.min(...refused!.values()) },
    ),
  };
}

/** `'a'`, or `'a' or 'b'` …, cut: the names are the consumer's. */
function nameModels(models: readonly string[]): string {
  return truncateChars(models.map((m) => `'${m}'`).join(' or '), 300);
}

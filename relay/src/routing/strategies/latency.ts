/**
 * latency: lowest EWMA of time to first byte, weighted by load so a fast agent is not piled on.
 * An agent with no measurement yet scores 0 and is tried first, which is how it gets measured.
 */
import type { Balancer } from '../balancer.js';

export const latencyAware: Balancer = {
  pick(candidates) {
    let best = candidates[0]!;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const score = (candidate.ttfbEwmaMs ?? 0) * (1 + candidate.load);
      if (score < bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  },
};

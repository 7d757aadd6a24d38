/** least_load: fewest in-flight streams relative to max_concurrency; ties go to the earlier candidate. */
import type { Balancer } from '../balancer.js';

export const leastLoad: Balancer = {
  pick(candidates) {
    let best = candidates[0]!;
    let bestLoad = best.load;
    for (let i = 1; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (candidate.load < bestLoad) {
        best = candidate;
        bestLoad = candidate.load;
      }
    }
    return best;
  },
};

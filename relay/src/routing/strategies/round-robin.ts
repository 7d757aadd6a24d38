/** round_robin: strict rotation over the candidates, in connection order. */
import type { Balancer } from '../balancer.js';

export function roundRobin(): Balancer {
  let counter = 0;
  return {
    pick(candidates) {
      const picked = candidates[counter % candidates.length]!;
      counter = (counter + 1) % 1_000_000_007;
      return picked;
    },
  };
}

/** random: uniform over the candidates (random source injectable for tests). */
import type { Balancer } from '../balancer.js';

export function randomPick(random: () => number = Math.random): Balancer {
  return { pick: (candidates) => candidates[Math.floor(random() * candidates.length)]! };
}

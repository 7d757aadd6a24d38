/**
 * Balancing strategies (GATEWAY_LOAD_BALANCING). Each picks one agent among candidates that
 * already fit the request (model, readiness, capacity); one interface, one small function each.
 */
import type { BalancingStrategy } from '../config/load-config.js';
import type { AgentSession } from '../tunnel/agent-session.js';

export interface Balancer {
  pick(candidates: readonly AgentSession[]): AgentSession;
}

/** Fewest in-flight streams relative to the agent's max_concurrency; ties go to the older session. */
export const leastLoad: Balancer = {
  pick(candidates) {
    let best = candidates[0]!;
    let bestLoad = best.inFlight / best.maxConcurrency;
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i]!;
      const load = c.inFlight / c.maxConcurrency;
      if (load < bestLoad) {
        best = c;
        bestLoad = load;
      }
    }
    return best;
  },
};

/** Strict rotation over the candidates, in connection order. */
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

/** Uniformly random (injectable random source for tests). */
export function randomPick(random: () => number = Math.random): Balancer {
  return { pick: (candidates) => candidates[Math.floor(random() * candidates.length)]! };
}

export function createBalancer(strategy: BalancingStrategy): Balancer {
  switch (strategy) {
    case 'round_robin':
      return roundRobin();
    case 'random':
      return randomPick();
    case 'least_load':
    case 'latency':
      return leastLoad;
  }
}

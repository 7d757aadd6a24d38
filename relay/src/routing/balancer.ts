/**
 * Balancing (GATEWAY_LOAD_BALANCING): one interface, one module per strategy under strategies/.
 * A balancer only orders candidates that already fit the request (model, readiness, capacity,
 * cooldown, not yet tried).
 */
import type { BalancingStrategy } from '../config/load-config.js';
import type { RoutableAgent } from './routable-agent.js';
import { latencyAware } from './strategies/latency.js';
import { leastLoad } from './strategies/least-load.js';
import { randomPick } from './strategies/random.js';
import { roundRobin } from './strategies/round-robin.js';

export interface Balancer {
  /** Picks one of `candidates` (never empty). */
  pick(candidates: readonly RoutableAgent[]): RoutableAgent;
}

export function createBalancer(strategy: BalancingStrategy): Balancer {
  switch (strategy) {
    case 'round_robin':
      return roundRobin();
    case 'random':
      return randomPick();
    case 'latency':
      return latencyAware;
    case 'least_load':
      return leastLoad;
  }
}

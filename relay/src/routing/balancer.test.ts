import { describe, expect, it } from 'vitest';
import type { AgentSession } from '../tunnel/agent-session.js';
import { createBalancer } from './balancer.js';
import { randomPick } from './strategies/random.js';

/** Only the fields balancers read. */
function agent(id: string, inFlight: number, maxConcurrency: number, ttfbEwmaMs?: number): AgentSession {
  return { id, load: inFlight / maxConcurrency, ttfbEwmaMs } as unknown as AgentSession;
}

describe('balancers', () => {
  const a = agent('a', 0, 4);
  const b = agent('b', 0, 4);
  const c = agent('c', 0, 4);

  it('round_robin rotates exactly', () => {
    const balancer = createBalancer('round_robin');
    const picks = Array.from({ length: 9 }, () => balancer.pick([a, b, c]).id);
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('least_load prefers the idlest agent relative to its capacity', () => {
    const balancer = createBalancer('least_load');
    expect(balancer.pick([agent('busy', 3, 4), agent('idle', 0, 4), agent('half', 2, 4)]).id).toBe('idle');
    // 2 of 8 beats 1 of 2.
    expect(balancer.pick([agent('small', 1, 2), agent('big', 2, 8)]).id).toBe('big');
  });

  it('random spreads uniformly by its random source', () => {
    const sequence = [0, 0.34, 0.67, 0.99];
    let i = 0;
    const balancer = randomPick(() => sequence[i++ % sequence.length]!);
    expect([a, b, c, a].map(() => balancer.pick([a, b, c]).id)).toEqual(['a', 'b', 'c', 'c']);
    const counts = { a: 0, b: 0, c: 0 };
    const real = createBalancer('random');
    for (let n = 0; n < 3000; n++) counts[real.pick([a, b, c]).id as 'a']++;
    for (const count of Object.values(counts)) expect(count).toBeGreaterThan(800);
  });

  it('latency prefers the fast agent, unmeasured agents first, and weighs load', () => {
    const balancer = createBalancer('latency');
    expect(balancer.pick([agent('slow', 0, 4, 300), agent('fast', 0, 4, 20)]).id).toBe('fast');
    expect(balancer.pick([agent('fast', 0, 4, 20), agent('new', 0, 4)]).id).toBe('new');
    // Fast but saturated (score 40×2=80) loses to moderately fast and idle (50).
    expect(balancer.pick([agent('fast-busy', 4, 4, 40), agent('ok', 0, 4, 50)]).id).toBe('ok');
  });
});

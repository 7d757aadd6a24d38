/** `agent_update_failed` conditions from agents as this relay and its peers' adverts see them. */
import { describe, expect, it } from 'vitest';
import { type AgentView, clusterConditions, type World } from './conditions.js';

const client = { id: 'cl_a', name: 'A', status: 'active' as const, last_seen: new Date().toISOString() };
const agent = (extra: Partial<AgentView>): AgentView => ({
  id: 'ag',
  relayId: 'r1',
  clientId: 'cl_a',
  models: [],
  maxConcurrency: 1,
  ready: true,
  draining: false,
  ...extra,
});
const world = (agents: AgentView[], held: World['heldUpdateFailures'] = []): World => ({
  now: Date.now(),
  agents,
  clients: [client],
  watchedModels: [],
  capacityMin: 0,
  keyBudgets: [],
  lostRelays: [],
  redisUp: null,
  relayId: 'r1',
  heldUpdateFailures: held,
});
const updates = (w: World) => clusterConditions(w).filter((c) => c.rule === 'agent_update_failed');

describe('agent_update_failed conditions', () => {
  it('one per client and version, with the reason bounded; a hostile advert is skipped, not thrown on', () => {
    const failure = { version: '0.9.0', outcome: 'failed', reason: 'x'.repeat(5000) };
    const found = updates(
      world([
        agent({ id: 'a1', updateFailure: failure }),
        agent({ id: 'a2', updateFailure: failure }),
        agent({ id: 'a3', updateFailure: { version: 42, reason: null } as never }),
        agent({ id: 'a4', updateFailure: 'nonsense' as never }),
      ]),
    );
    expect(found.map((c) => c.key)).toEqual(['agent_update_failed:cl_a:0.9.0']);
    expect(found[0]?.ownerClientId).toBe('cl_a');
    expect(found[0]!.text.length).toBeLessThan(1200);
  });

  it('held while the client has no agent connected, dropped once one is back without the failure', () => {
    const [held] = updates(
      world([agent({ updateFailure: { version: '1.0.0', outcome: 'refused', reason: 'r' } })]),
    );
    expect(updates(world([], [held!])).map((c) => c.key)).toEqual(['agent_update_failed:cl_a:1.0.0']);
    expect(updates(world([agent({})], [held!]))).toEqual([]);
  });
});

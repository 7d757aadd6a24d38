/** A Route reports its attempt's outcome: a success pins the session and clears the cooldown. */
import { describe, expect, it } from 'vitest';
import { agent } from '../test-support/fake-agents.js';
import type { StreamFailure } from '../tunnel/stream.js';
import { Cooldown } from './cooldown.js';
import { modelCooldownKey, Route } from './route.js';
import { StickyTable, sessionPin } from './sticky.js';

function setup(sessionName: string | undefined) {
  const sticky = new StickyTable();
  const feedback = {
    cooldown: new Cooldown({ threshold: 2, baseMs: 5000 }),
    pins: { session: sticky, conversation: new StickyTable() },
  };
  const served = agent('a');
  const pin = sessionName ? sessionPin('key-1', sessionName) : undefined;
  const route = new Route(served, 'gpt-5', sessionName ? 'new' : undefined, pin, feedback);
  return { route, served, cooldown: feedback.cooldown, sticky };
}

/** Bridge-wide: the tab is gone (no scope from the agent: the code decides). */
const broken: StreamFailure = { code: 'upstream_unavailable', message: 'tab closed' };
/** The model's: LMArena said no to this model. */
const modelSaidNo: StreamFailure = { code: 'upstream_error', message: 'model unavailable', scope: 'model' };

describe('Route', () => {
  it('succeeded() pins the session to the agent and clears its failures', () => {
    const { route, served, cooldown, sticky } = setup('conv-1');
    route.failed(broken);
    expect(cooldown.state(served.agentKey)?.failures).toBe(1);
    route.succeeded();
    expect(sticky.get('key-1/conv-1')).toBe(served.agentKey);
    expect(cooldown.state(served.agentKey)).toBeUndefined();
  });

  it('succeeded() without a session name pins nothing', () => {
    const { route, sticky } = setup(undefined);
    route.succeeded();
    expect(sticky.size).toBe(0);
  });

  it("failed() counts the agent's faults towards the bench and returns the period that benched it", () => {
    const { route, served, cooldown } = setup(undefined);
    expect(route.failed(broken)).toBeUndefined();
    expect(cooldown.benched(served.agentKey)).toBe(false);
    expect(route.failed({ code: 'protocol_error', message: 'bad frame' })).toBe(5000);
    expect(cooldown.benched(served.agentKey)).toBe(true);
    expect(cooldown.state(served.agentKey)?.reason).toBe('protocol_error: bad frame');
  });

  it("failed() benches only the model on this agent for the model's own failures; success clears it", () => {
    const { route, served, cooldown } = setup(undefined);
    const modelKey = modelCooldownKey(served.agentKey, 'gpt-5');
    expect(route.failed(modelSaidNo)).toBeUndefined();
    expect(route.failed(modelSaidNo)).toBe(5000);
    expect(cooldown.benched(modelKey)).toBe(true);
    expect(cooldown.benched(served.agentKey)).toBe(false);
    expect(cooldown.benched(modelCooldownKey(served.agentKey, 'claude-opus-4'))).toBe(false);
    route.succeeded();
    expect(cooldown.state(modelKey)).toBeUndefined();
  });

  it('failed() ignores what is not the agent: rejected, cancelled, busy, a vanished socket', () => {
    const { route, served, cooldown } = setup(undefined);
    for (const code of ['upstream_rejected', 'cancelled', 'busy', 'agent_gone'] as const) {
      expect(route.failed({ code, message: 'x' })).toBeUndefined();
      expect(route.failed({ code, message: 'x' })).toBeUndefined();
    }
    expect(cooldown.state(served.agentKey)).toBeUndefined();
  });
});

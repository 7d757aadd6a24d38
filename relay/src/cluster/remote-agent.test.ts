import { describe, expect, it } from 'vitest';
import { type AgentAdvert, RemoteAgent } from './remote-agent.js';

const advert: AgentAdvert = {
  id: 'agt_1',
  relayId: 'rly_1',
  clientId: 'cli_1',
  agentKey: 'cli_1/i1',
  models: ['gpt-5'],
  maxConcurrency: 2,
  inFlight: 0,
  ready: true,
  draining: false,
};

describe('RemoteAgent', () => {
  it("takes the advert's prompt limit only when it is a positive integer (Redis is read unchecked)", () => {
    const open = () => {
      throw new Error('not opened here');
    };
    expect(new RemoteAgent({ ...advert, promptLimitChars: 113_567 }, open).promptLimitChars).toBe(113_567);
    for (const hostile of [undefined, 0, -5, 1.5, Number.NaN, '113567', null, 1e300])
      expect(
        new RemoteAgent({ ...advert, promptLimitChars: hostile as number }, open).promptLimitChars,
      ).toBeUndefined();
    const agent = new RemoteAgent(advert, open);
    agent.update({ ...advert, promptLimitChars: 50 });
    expect(agent.promptLimitChars).toBe(50);
  });
});

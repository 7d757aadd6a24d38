/**
 * The routed model over real sockets (relay + agent + fake bridge): an alias's model reaches the
 * bridge in the body whether the agent writes it in (hello `routedModel`, the relay sends the
 * consumer's bytes with `open.model` and `rerouted`) or the relay does for an older agent (no
 * such hello field, protocol 2 or 1); when the consumer asked for the model that serves, the
 * bridge gets the consumer's bytes exactly.
 */

import { type HelloFrame, PROTOCOLS } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startPassthroughAgent } from './support/passthrough-agent.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

/** A body as a consumer might write it: odd spacing, escapes, non-ASCII, a key after `model`. */
const handWritten = (model: string) =>
  Buffer.from(
    `{ "model" : "${model}",\n  "messages": [ {"role":"user", "content":"\\u00e9t\\u00e9 日本語 🌍 “q”"} ],` +
      `\t"stream": false, "x_extra": {"kept": [1, 2.50, "\\/"]} }`,
  );

const chat = (relay: TestRelay, key: string, body: Buffer) =>
  fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });

/** A relay with an alias `fast` → `gpt-5` (the only model the bridge serves), and a consumer key. */
async function stack() {
  const relay = await startTestRelay();
  const bridge = track(await startFakeBridge({ models: ['gpt-5'] }));
  const { token } = await relay.createClient();
  const { key } = await relay.createKey();
  await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-5'] });
  return { relay, bridge, token, key };
}

/** Sends `body`, checks a 200, and returns what the bridge received. */
async function served(relay: TestRelay, key: string, body: Buffer, bridge: { requests: { raw: Buffer }[] }) {
  const answer = await chat(relay, key, body);
  expect(answer.status, await answer.clone().text()).toBe(200);
  expect(((await answer.json()) as { model: string }).model).toBe('gpt-5');
  return bridge.requests.at(-1)!.raw;
}

describe('the routed model', () => {
  it('an aliased request reaches the bridge with the routed model through an agent that writes it in', async () => {
    const { relay, bridge, token, key } = await stack();
    await startTestAgent(relay.url, token, bridge.url);
    expect(relay.hub.list()[0]!.hello?.routedModel).toBe(true);
    const body = handWritten('fast');
    const received = await served(relay, key, body, bridge);
    expect(JSON.parse(received.toString())).toEqual({ ...JSON.parse(body.toString()), model: 'gpt-5' });
  });

  it('asked and routed the same: the bridge gets the consumer bytes exactly, through that agent', async () => {
    const { relay, bridge, token, key } = await stack();
    await startTestAgent(relay.url, token, bridge.url);
    const body = handWritten('gpt-5');
    const received = await served(relay, key, body, bridge);
    expect(received.equals(body)).toBe(true);
  });

  const older: [string, Partial<HelloFrame>][] = [
    ['protocol 2', { protocols: [...PROTOCOLS] }],
    ['protocol 1', {}],
  ];
  for (const [name, hello] of older) {
    it(`an aliased request reaches the bridge with the routed model through an older agent (${name})`, async () => {
      const { relay, bridge, token, key } = await stack();
      const agent = await startPassthroughAgent(relay.url, token, {
        upstream: `${bridge.url}/v1`,
        models: ['gpt-5'],
        hello,
      });
      const body = handWritten('fast');
      const received = await served(relay, key, body, bridge);
      expect(JSON.parse(received.toString())).toEqual({ ...JSON.parse(body.toString()), model: 'gpt-5' });
      // The relay wrote the model in itself: nothing asks this agent to.
      expect(agent.opened).toHaveLength(1);
      expect(agent.opened[0]).not.toHaveProperty('rerouted');
      expect(agent.opened[0]!.model).toBe(name === 'protocol 2' ? 'gpt-5' : undefined);
    });
  }

  it('the relay flags rerouted only when the routed model is not the one asked', async () => {
    const { relay, bridge, token, key } = await stack();
    const agent = await startPassthroughAgent(relay.url, token, {
      upstream: `${bridge.url}/v1`,
      models: ['gpt-5'],
      hello: { protocols: [...PROTOCOLS], routedModel: true },
    });
    await served(relay, key, handWritten('gpt-5'), bridge);
    await chat(relay, key, handWritten('fast')).then((answer) => answer.text());
    expect(agent.opened.map((open) => [open.model, open.rerouted])).toEqual([
      ['gpt-5', undefined],
      ['gpt-5', true],
    ]);
    // The passthrough agent does not write the model in: the bridge sees the consumer's words.
    expect(JSON.parse(bridge.requests.at(-1)!.raw.toString()).model).toBe('fast');
  });

  it('an aliased request reaches the bridge with the routed model when the agent is on another relay', async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridge = track(await startFakeBridge({ models: ['gpt-5'] }));
    const { token } = await a.createClient();
    const { key } = await a.createKey();
    await a.admin('PUT', '/api/aliases/fast', { models: ['gpt-5'] });
    await startTestAgent(b.url, token, bridge.url); // the agent sits on relay B
    await expect.poll(() => a.router.models()).toContain('gpt-5');
    const body = handWritten('fast');
    const received = await served(a, key, body, bridge);
    expect(JSON.parse(received.toString())).toEqual({ ...JSON.parse(body.toString()), model: 'gpt-5' });
    // Asked and routed the same: the consumer's bytes, across both relays.
    expect((await served(a, key, handWritten('gpt-5'), bridge)).equals(handWritten('gpt-5'))).toBe(true);
  });
});

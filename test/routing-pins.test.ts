/**
 * Pins belong to the API key that made them (sticky sessions and conversation affinity), on one
 * relay and across relays through Redis: a consumer who also lends a bridge cannot capture
 * another consumer's conversation, nor learn that a session name is in use.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { type FakeBridge, startFakeBridge } from './support/fake-bridge.js';
import { startPool } from './support/pool.js';
import type { TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

/** The two turns of shared/fixtures/cloudwaddie/followup-turn{1,2}-stream.txt. */
const TURN1: Message[] = [{ role: 'user', content: 'followup first scenario:finish 533298' }];
const TURN2: Message[] = [
  ...TURN1,
  { role: 'assistant', content: 'Hello world.' },
  { role: 'user', content: 'second scenario:text' },
];

function chat(url: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

/** Streams `messages` through the openai SDK; resolves with the answer's text. */
async function turn(url: string, key: string, messages: Message[]): Promise<string> {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'gpt-5', messages, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

/** Which of `bridges` got a request since `before` (their request counts). */
function servedBy(bridges: FakeBridge[], before: number[]): number {
  const index = bridges.findIndex((b, i) => b.requests.length > before[i]!);
  if (index < 0) throw new Error('no bridge received the request');
  return index;
}
const counts = (bridges: FakeBridge[]) => bridges.map((b) => b.requests.length);

describe('sticky sessions are per key', () => {
  it("another key's request with the same session name neither moves the pin nor learns it exists", async () => {
    // Bridge 1 is the attacker's: it alone serves 'evil-model' (and gpt-5, to catch the victim).
    const pool = await startPool(2, {
      relay: { loadBalancing: 'round_robin' },
      bridge: (i) => ({ models: i === 1 ? ['gpt-5', 'evil-model'] : ['gpt-5'] }),
    });
    const bridges = pool.members.map((m) => m.bridge);
    const attacker = (await pool.relay.createKey('attacker')).key;
    const session = { 'x-session-name': 'victim-chat' };
    let before = counts(bridges);
    const first = await pool.chat({}, session);
    await first.text();
    expect(first.headers.get('x-session-pin')).toBe('new');
    const home = servedBy(bridges, before);
    expect(home).toBe(0); // round robin starts at the first agent: the capture would be visible
    // The capture attempt: only the attacker's bridge serves the model, so it must serve this.
    before = counts(bridges);
    const capture = await chat(pool.relay.url, attacker, { model: 'evil-model' }, session);
    await capture.text();
    expect(capture.status).toBe(200);
    expect(servedBy(bridges, before)).toBe(1);
    // The attacker's own, new pin: nothing says the victim's name was taken.
    expect(capture.headers.get('x-session-pin')).toBe('new');
    for (let i = 0; i < 3; i++) {
      before = counts(bridges);
      const res = await pool.chat({}, session);
      await res.text();
      expect(res.headers.get('x-session-pin')).toBe('kept');
      expect(servedBy(bridges, before)).toBe(home);
    }
    // And the attacker's pin is the attacker's: kept on their bridge.
    const again = await chat(pool.relay.url, attacker, {}, session);
    await again.text();
    expect(again.headers.get('x-session-pin')).toBe('kept');
    expect(bridges[1]!.requests.length).toBe(2);
  });

  it('across relays through Redis: the capture fails there too', async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridges = [
      track(await startFakeBridge({ models: ['gpt-5'] })),
      track(await startFakeBridge({ models: ['gpt-5', 'evil-model'] })),
    ];
    await startTestAgent(a.url, (await a.createClient('honest')).token, bridges[0]!.url);
    await startTestAgent(b.url, (await a.createClient('attacker-bridge')).token, bridges[1]!.url);
    const victim = (await a.createKey('victim')).key;
    const attacker = (await a.createKey('attacker')).key;
    await expect
      .poll(() => [a.cluster!.remoteAgents().length, b.cluster!.remoteAgents().length])
      .toEqual([1, 1]);
    const session = { 'x-session-name': 'victim-chat' };
    // Entering relay A, the victim lands on A's own agent (local first).
    const first = await chat(a.url, victim, {}, session);
    await first.text();
    expect(first.headers.get('x-session-pin')).toBe('new');
    expect(counts(bridges)).toEqual([1, 0]);
    const capture = await chat(b.url, attacker, { model: 'evil-model' }, session);
    await capture.text();
    expect(capture.headers.get('x-session-pin')).toBe('new');
    expect(counts(bridges)).toEqual([1, 1]);
    // Through relay B, whose own agent is the attacker's: the victim's pin still holds.
    for (const entry of [b, a, b]) {
      const res = await chat(entry.url, victim, {}, session);
      await res.text();
      expect(res.headers.get('x-session-pin')).toBe('kept');
    }
    expect(counts(bridges)).toEqual([4, 1]);
  });
});

describe('conversation affinity without a header', () => {
  it("turn 2 lands on turn 1's agent; other conversations and other keys are balanced as usual", async () => {
    const pool = await startPool(2, { relay: { loadBalancing: 'round_robin' } });
    const bridges = pool.members.map((m) => m.bridge);
    const url = pool.relay.url;
    let before = counts(bridges);
    expect(await turn(url, pool.key, TURN1)).not.toBe('');
    const home = servedBy(bridges, before);
    for (let i = 0; i < 3; i++) {
      before = counts(bridges);
      expect(await turn(url, pool.key, TURN2)).not.toBe('');
      expect(servedBy(bridges, before)).toBe(home);
      // No x-session-pin for a guess the consumer did not ask for.
      const res = await chat(url, pool.key, { messages: TURN2 });
      await res.text();
      expect(res.headers.get('x-session-pin')).toBeNull();
    }
    // Other conversations (a first turn, or a later turn nobody served before) keep rotating.
    const served: number[] = [];
    for (let i = 0; i < 4; i++) {
      before = counts(bridges);
      const other: Message[] = [{ role: 'user', content: `conversation ${i}` }, ...TURN2.slice(1)];
      await turn(url, pool.key, i % 2 ? other : other.slice(0, 1));
      served.push(servedBy(bridges, before));
    }
    expect(new Set(served)).toEqual(new Set([0, 1]));
    // Another key with the very same messages has no pin of its own yet: round robin decides,
    // and its next pick is the other agent (eleven picks since turn 1's, the first).
    const other = (await pool.relay.createKey('other')).key;
    before = counts(bridges);
    await turn(url, other, TURN2);
    const otherHome = servedBy(bridges, before);
    expect(otherHome).not.toBe(home);
    // From then on each key keeps its own agent.
    for (const [key, where] of [
      [pool.key, home],
      [other, otherHome],
      [pool.key, home],
    ] as const) {
      before = counts(bridges);
      await turn(url, key, TURN2);
      expect(servedBy(bridges, before)).toBe(where);
    }
  });

  it('X-Session-Name wins over the conversation, and a pinned agent that is full is not waited for', async () => {
    const pool = await startPool(2, {
      relay: { loadBalancing: 'round_robin' },
      agent: () => ({ maxConcurrency: 1 }),
    });
    const bridges = pool.members.map((m) => m.bridge);
    const url = pool.relay.url;
    let before = counts(bridges);
    await turn(url, pool.key, TURN1);
    const home = servedBy(bridges, before);
    // The named session goes where round robin says; the conversation pin does not hold it.
    before = counts(bridges);
    const named = await chat(url, pool.key, { messages: TURN2 }, { 'x-session-name': 'named' });
    await named.text();
    expect(named.headers.get('x-session-pin')).toBe('new');
    const namedHome = servedBy(bridges, before);
    expect(namedHome).not.toBe(home);
    before = counts(bridges);
    const again = await chat(url, pool.key, { messages: TURN2 }, { 'x-session-name': 'named' });
    await again.text();
    expect(servedBy(bridges, before)).toBe(namedHome);
    // The conversation's agent is busy with a stream that hangs: turn 2 goes to the other one.
    bridges[home]!.scenario = 'hang';
    const held = chat(url, pool.key, { messages: TURN2, stream: true });
    await expect.poll(() => pool.relay.hub.list().filter((s) => s.inFlight > 0).length).toBe(1);
    bridges[home]!.scenario = 'ok';
    before = counts(bridges);
    await turn(url, pool.key, TURN2);
    expect(servedBy(bridges, before)).toBe(1 - home);
    void held.then((res) => res.body?.cancel()).catch(() => undefined);
  });

  it("across relays through Redis: turn 2 entering another relay goes to turn 1's agent", async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridges = [track(await startFakeBridge()), track(await startFakeBridge())];
    await startTestAgent(a.url, (await a.createClient('x')).token, bridges[0]!.url);
    await startTestAgent(b.url, (await a.createClient('y')).token, bridges[1]!.url);
    const { key } = await a.createKey();
    await expect
      .poll(() => [a.cluster!.remoteAgents().length, b.cluster!.remoteAgents().length])
      .toEqual([1, 1]);
    await turn(a.url, key, TURN1);
    expect(counts(bridges)).toEqual([1, 0]);
    // Relay B prefers its own agent, but the conversation's is A's.
    await turn(b.url, key, TURN2);
    await turn(b.url, key, TURN2);
    expect(counts(bridges)).toEqual([3, 0]);
    // Another conversation entering B stays local to B.
    await turn(b.url, key, [{ role: 'user', content: 'something else' }]);
    expect(counts(bridges)).toEqual([3, 1]);
  });
});

/**
 * The `agent_update_failed` rule end to end: a real relay offering a signed release (a stand-in
 * bundle: the agent side of the update has its own suites), raw agents that say they did not take
 * it, real receivers for the operator and for each owner, the engine driven by its own clock.
 * One message per incident to the operator and to that owner only, none repeated while the agent
 * re-reports or is away, and one recovery when it runs the offered version or the offer is withdrawn.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AgentBundle } from '../relay/src/package/agent-bundle.js';
import { alertDefaults, bodies, MIN, operatorWebhook } from './support/alerting.js';
import { connectRawAgent, type RawAgent } from './support/raw-agent.js';
import { httpReceiver } from './support/receivers.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const OFFERED = '0.9.0';
const code = Buffer.from('// not an agent: this suite never downloads it\n');
const release: AgentBundle = {
  code,
  deflated: new Uint8Array(0),
  crc32: 0,
  sha256: createHash('sha256').update(code).digest('hex'),
  version: OFFERED,
  release: { key: 'stand-in', signature: `${'A'.repeat(86)}==` },
};

async function startRelay() {
  const relay = await startTestRelay({
    agentUpdates: true,
    agentBundle: async () => release,
    publicUrl: 'https://relay.example.org',
    alerts: {
      ...(await alertDefaults()),
      intervalMs: 0,
      ownerWebhook: { allowHttp: true, allowPrivate: true },
    },
  });
  const ops = await operatorWebhook(relay);
  return { relay, ops };
}

/** A client whose owner has a webhook on a real receiver. */
async function ownedClient(relay: TestRelay, name: string) {
  const hook = await httpReceiver();
  const made = await relay.admin('POST', '/api/clients', { name, webhook_url: `${hook.url}/${name}` });
  expect(made.status).toBe(201);
  return { id: made.json.client.id as string, token: made.json.token as string, hook };
}

/** An agent at `version` that takes update offers; resolves once it was offered one (if newer). */
async function agentAt(relay: TestRelay, token: string, version: string): Promise<RawAgent> {
  const agent = await connectRawAgent(relay.url, token, {
    hello: { agentVersion: version, autoUpdate: true },
  });
  // connectRawAgent waited for the welcome: it is among the frames already.
  const welcome = agent.frames.find((f) => f.type === 'welcome');
  expect(welcome).toMatchObject({ updateResults: true });
  return agent;
}

const refuse = (agent: RawAgent, reason = 'the signature does not verify with the release key') =>
  agent.send({ type: 'update_result', version: OFFERED, outcome: 'refused', reason });

const ofRule = (received: Array<{ body: string }>) =>
  bodies(received).filter((b) => b.rule === 'agent_update_failed');

describe('agent_update_failed', () => {
  it('one message to the operator and that owner, none while it re-reports or is away, one when it runs the offered version', async () => {
    const { relay, ops } = await startRelay();
    const alice = await ownedClient(relay, 'alice');
    const bob = await ownedClient(relay, 'bob');
    const first = await agentAt(relay, alice.token, '0.1.0');
    expect((await first.next('update')).version).toBe(OFFERED);
    await agentAt(relay, bob.token, OFFERED); // Bob's agent is up to date: offered nothing.
    const session = () => relay.hub.list().find((s) => s.client.id === alice.id);

    // A result about a version this relay did not offer is not taken.
    first.send({ type: 'update_result', version: '7.0.0', outcome: 'failed', reason: 'forged' });
    refuse(first);
    await expect.poll(() => session()?.updateFailure?.version).toBe(OFFERED);
    const t0 = Date.now();
    for (let t = t0; t <= t0 + 3 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(ofRule(ops.received)).toHaveLength(1);
    const [incident] = ofRule(ops.received);
    expect(incident).toMatchObject({
      kind: 'incident',
      title: 'The agent of "alice" did not update to 0.9.0',
      labels: { client: alice.id, version: OFFERED, outcome: 'refused' },
      link: 'https://relay.example.org/dashboard#clients',
    });
    expect(incident?.text).toContain('offered version 0.9.0 and refused it: the signature does not verify');
    expect(incident?.text).toMatch(/Fix: .*fresh package/);
    await expect.poll(() => ofRule(alice.hook.received).length).toBe(1);

    // The agent goes away and comes back on the same version: offered again, it says so again.
    await first.close();
    for (let t = t0 + 3.25 * MIN; t <= t0 + 8 * MIN; t += 15_000) await relay.alerts.tick(t);
    const again = await agentAt(relay, alice.token, '0.1.0');
    await again.next('update');
    refuse(again);
    await expect.poll(() => session()?.updateFailure?.version).toBe(OFFERED);
    for (let t = t0 + 8.25 * MIN; t <= t0 + 15 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(ofRule(ops.received)).toHaveLength(1);

    // Updated by hand: it now runs the offered version; after the settle time, one recovery.
    await again.close();
    await agentAt(relay, alice.token, OFFERED);
    for (let t = t0 + 15.25 * MIN; t <= t0 + 30 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(ofRule(ops.received).map((b) => b.kind)).toEqual(['incident', 'recovery']);
    expect(ofRule(ops.received)[1]?.title).toBe(
      'The agent of "alice" is no longer behind the update to 0.9.0',
    );
    await expect.poll(() => ofRule(alice.hook.received).map((b) => b.kind)).toEqual(['incident', 'recovery']);
    // Bob's owner heard nothing of Alice's agent.
    expect(bob.hook.received).toEqual([]);
  });

  it('recovers when the operator withdraws the offer', async () => {
    const { relay, ops } = await startRelay();
    const carol = await ownedClient(relay, 'carol');
    const agent = await agentAt(relay, carol.token, '0.1.0');
    await agent.next('update');
    agent.send({
      type: 'update_result',
      version: OFFERED,
      outcome: 'failed',
      reason: 'the new version exited (code 1) before connecting to a relay',
    });
    await expect.poll(() => relay.hub.list()[0]?.updateFailure?.outcome).toBe('failed');
    const t0 = Date.now();
    for (let t = t0; t <= t0 + 2 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(ofRule(ops.received).map((b) => b.kind)).toEqual(['incident']);
    expect(ofRule(ops.received)[0]?.text).toContain('could not switch to it: the new version exited');

    const off = await relay.admin('PUT', `/api/clients/${carol.id}/agent-update`, { mode: 'off' });
    expect(off.status).toBe(200);
    expect(relay.hub.list()[0]?.updateFailure).toBeUndefined();
    for (let t = t0 + 2.25 * MIN; t <= t0 + 10 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(ofRule(ops.received).map((b) => b.kind)).toEqual(['incident', 'recovery']);
    await expect.poll(() => ofRule(carol.hook.received).map((b) => b.kind)).toEqual(['incident', 'recovery']);
  });

  it('an agent that never said autoUpdate is not heard on updates', async () => {
    const { relay, ops } = await startRelay();
    const dave = await ownedClient(relay, 'dave');
    const agent = await connectRawAgent(relay.url, dave.token, { hello: { agentVersion: '0.1.0' } });
    expect(agent.frames.find((f) => f.type === 'welcome')).not.toHaveProperty('updateResults');
    agent.send({ type: 'update_result', version: OFFERED, outcome: 'refused', reason: 'unasked' });
    // The socket stays up (a frame the schema knows), and nothing is kept or sent.
    await expect.poll(() => relay.hub.list().length).toBe(1);
    const t0 = Date.now();
    for (let t = t0; t <= t0 + 3 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(relay.hub.list()[0]?.updateFailure).toBeUndefined();
    expect(ofRule(ops.received)).toEqual([]);
  });
});

/**
 * Pushed settings: an operator's per-client `max_concurrency`, model list and log level reach the
 * client's agents at once (on every relay of a cluster), and at the next connection; a value the
 * owner set explicitly wins; `/platform/status` says where each value came from.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

const nothingExplicit = { explicit: new Set<never>() };

describe('pushed settings', () => {
  it('apply without a restart: fewer slots, a hidden model, another log level; a new agent gets them at hello', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const client = await relay.createClient();
    const agent = await startTestAgent(relay.url, client.token, bridge.url, {}, nothingExplicit);
    const session = () => relay.hub.sessions.get(agent.sessionId)!;
    expect([...session().models].sort()).toEqual(['claude-opus-4', 'dall-e-3', 'gpt-5']);
    expect(agent.status().settings?.max_concurrency).toEqual({ value: 4, source: 'default' });

    const settings = { max_concurrency: 1, models: { hide: ['dall-e-3'] }, log_level: 'debug' };
    const put = await relay.admin('PUT', `/api/clients/${client.id}/settings`, settings);
    expect(put.status).toBe(200);
    await expect.poll(() => [...session().models].sort()).toEqual(['claude-opus-4', 'gpt-5']);
    await expect.poll(() => session().slots).toBe(1);
    expect(agent.status()).toMatchObject({
      max_concurrency: 1,
      settings: {
        max_concurrency: { value: 1, source: 'relay' },
        log_level: { value: 'debug', source: 'relay' },
        models: { only: null, hide: ['dall-e-3'], source: 'relay' },
      },
    });
    expect((await relay.admin('GET', `/api/clients/${client.id}/settings`)).json).toEqual({ settings });

    const later = await startTestAgent(relay.url, client.token, bridge.url, {}, nothingExplicit);
    await expect
      .poll(() => [...relay.hub.sessions.get(later.sessionId)!.models].sort())
      .toEqual(['claude-opus-4', 'gpt-5']);
    expect(later.status().settings?.max_concurrency).toEqual({ value: 1, source: 'relay' });

    // Cleared: back to the agents' own defaults.
    await relay.admin('PUT', `/api/clients/${client.id}/settings`, {});
    await expect.poll(() => session().slots).toBe(4);
    expect(session().models.has('dall-e-3')).toBe(true);
  });

  it("the owner's explicit value wins over the relay's", async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const client = await relay.createClient();
    const agent = await startTestAgent(
      relay.url,
      client.token,
      bridge.url,
      { maxConcurrency: 3 },
      {
        explicit: new Set(['maxConcurrency'] as const),
      },
    );
    await relay.admin('PUT', `/api/clients/${client.id}/settings`, { max_concurrency: 1, log_level: 'warn' });
    await expect.poll(() => agent.status().settings?.log_level.source).toBe('relay');
    expect(agent.status().settings?.max_concurrency).toEqual({ value: 3, source: 'local' });
    expect(relay.hub.sessions.get(agent.sessionId)!.slots).toBe(3);
  });

  it('reach the agents on every relay of a cluster; bad settings and unknown clients are refused', async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [(typeof relays)[0], (typeof relays)[0]];
    const bridge = track(await startFakeBridge());
    const client = await a.createClient();
    const onB = await startTestAgent(b.url, client.token, bridge.url, {}, nothingExplicit);
    // A knows B once it has seen B's heartbeat.
    await expect.poll(() => a.cluster!.membership.relays()).toContain(b.relayId);
    const put = await a.admin('PUT', `/api/clients/${client.id}/settings`, { models: { only: ['gpt-5'] } });
    expect(put.json).toMatchObject({ unreachable: [] });
    await expect.poll(() => [...b.hub.sessions.get(onB.sessionId)!.models]).toEqual(['gpt-5']);

    expect((await a.admin('PUT', `/api/clients/${client.id}/settings`, { max_concurrency: 0 })).status).toBe(
      400,
    );
    expect((await a.admin('PUT', `/api/clients/${client.id}/settings`, { colour: 'blue' })).status).toBe(400);
    expect((await a.admin('PUT', '/api/clients/cl_nope/settings', {})).status).toBe(404);
  });
});

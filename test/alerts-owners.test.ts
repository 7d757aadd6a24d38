/**
 * Owners' own alert webhooks end to end: a real relay, raw agents played into
 * `cloudflare_challenge`, real receivers for the operator and for each owner. With the lab
 * allowance on, each owner gets their own bridge's messages, signed with their own secret, and
 * never another owner's; with it off, the admin API refuses non-public URLs with a 400 and the
 * relay refuses, at connect time, a name that resolves to loopback.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertDefaults, bodies, MIN, notReady, operatorWebhook } from './support/alerting.js';
import { connectRawAgent } from './support/raw-agent.js';
import { httpReceiver, type Received } from './support/receivers.js';
import { startTestRelay } from './support/relay.js';

const verified = (hit: Received, secret: string) =>
  hit.headers['x-arena-signature'] ===
  `sha256=${createHmac('sha256', secret).update(`${hit.headers['x-arena-timestamp']}.${hit.body}`).digest('hex')}`;

describe("owners' webhooks", () => {
  it('each owner hears about their own bridge only, signed with their own secret; operators still hear everything', async () => {
    const defaults = await alertDefaults();
    const relay = await startTestRelay({
      alerts: { ...defaults, intervalMs: 0, ownerWebhook: { allowHttp: true, allowPrivate: true } },
    });
    const ops = await operatorWebhook(relay);
    const aliceHook = await httpReceiver();
    const bobHook = await httpReceiver();
    const alice = await relay.admin('POST', '/api/clients', {
      name: "Alice's bridge",
      webhook_url: `${aliceHook.url}/alice`,
    });
    const bob = await relay.admin('POST', '/api/clients', { name: "Bob's bridge" });
    expect(alice.status).toBe(201);
    expect(alice.json.client.webhook_url).toBe(`${aliceHook.url}/alice`);
    const aliceSecret = alice.json.webhook_secret as string;
    expect(aliceSecret).toMatch(/^arw_/);
    expect(bob.json.webhook_secret).toBeUndefined();
    // Bob's URL comes later, by PATCH; the secret is answered once and is in no listing.
    const bobPatched = await relay.admin('PATCH', `/api/clients/${bob.json.client.id}`, {
      webhook_url: `${bobHook.url}/bob`,
    });
    const bobSecret = bobPatched.json.webhook_secret as string;
    expect(bobSecret).toMatch(/^arw_/);
    expect(bobSecret).not.toBe(aliceSecret);
    const listed = JSON.stringify((await relay.admin('GET', '/api/clients')).json);
    expect(listed).not.toContain(aliceSecret);
    expect(listed).not.toContain(bobSecret);

    const aliceAgent = await connectRawAgent(relay.url, alice.json.token, { hello: { models: ['gpt-5'] } });
    const bobAgent = await connectRawAgent(relay.url, bob.json.token, { hello: { models: ['claude'] } });
    const t0 = Date.now();
    notReady(aliceAgent, false);
    notReady(bobAgent, false);
    await expect.poll(() => relay.hub.list().filter((s) => !s.ready).length).toBe(2);
    for (let t = t0; t <= t0 + 6 * MIN; t += 15_000) await relay.alerts.tick(t);
    // Back: Alice's bridge serves again; Bob's stays down.
    notReady(aliceAgent, true);
    await expect.poll(() => relay.hub.list().filter((s) => s.ready).length).toBe(1);
    for (let t = t0 + 6.25 * MIN; t <= t0 + 12 * MIN; t += 15_000) await relay.alerts.tick(t);

    await expect.poll(() => aliceHook.received.length).toBe(2);
    await expect.poll(() => bobHook.received.length).toBe(1);
    expect(bodies(aliceHook.received).map((b) => `${b.kind}:${b.rule}:${b.labels.client}`)).toEqual([
      `incident:bridge_not_serving:${alice.json.client.id}`,
      `recovery:bridge_not_serving:${alice.json.client.id}`,
    ]);
    expect(bodies(bobHook.received).map((b) => `${b.kind}:${b.rule}:${b.labels.client}`)).toEqual([
      `incident:bridge_not_serving:${bob.json.client.id}`,
    ]);
    expect(aliceHook.received.every((hit) => verified(hit, aliceSecret))).toBe(true);
    expect(bobHook.received.every((hit) => verified(hit, bobSecret))).toBe(true);
    expect(verified(bobHook.received[0]!, aliceSecret)).toBe(false);
    // The owner's copy has the fix in plain words and no link into the operator's dashboard.
    expect(bodies(aliceHook.received)[0]?.text).toMatch(/Fix: /);
    expect(bodies(aliceHook.received)[0]?.link).toBeUndefined();
    // The operator got both bridges' messages and the model outages, which go to no owner.
    const opsRules = bodies(ops.received).map((b) => `${b.kind}:${b.rule}`);
    expect(opsRules.filter((r) => r.endsWith('bridge_not_serving'))).toHaveLength(3);
    expect(opsRules).toContain('incident:model_outage');
    const deliveries = (await relay.admin('GET', '/api/alerts/deliveries')).json.deliveries as Array<{
      channel_kind: string;
      state: string;
    }>;
    expect(deliveries.filter((d) => d.channel_kind === 'owner_webhook').map((d) => d.state)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);

    // Removing the URL stops the owner's copies.
    const cleared = await relay.admin('PATCH', `/api/clients/${bob.json.client.id}`, { webhook_url: null });
    expect(cleared.json.client.webhook_url).toBeNull();
    notReady(bobAgent, true);
    await expect.poll(() => relay.hub.list().filter((s) => s.ready).length).toBe(2);
    for (let t = t0 + 12.25 * MIN; t <= t0 + 20 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(
      bodies(ops.received).filter((b) => b.kind === 'recovery' && b.rule === 'bridge_not_serving'),
    ).toHaveLength(2);
    expect(bobHook.received).toHaveLength(1);
  });

  it('without the allowance: the admin API refuses non-public and non-https URLs with a 400', async () => {
    const relay = await startTestRelay();
    const refused = [
      ['http://hooks.example.org/x', 'must be an https:// URL'],
      ['https://127.0.0.1/x', 'is not a public address'],
      ['https://localhost:8443/x', 'is this machine'],
      ['https://[::1]/x', 'is not a public address'],
      ['https://[::ffff:127.0.0.1]/x', 'is not a public address'],
      ['https://[fd00::5]/x', 'is not a public address'],
      ['https://169.254.169.254/latest/meta-data/', 'is not a public address'],
      ['https://10.1.2.3/x', 'is not a public address'],
      ['https://100.64.1.1/x', 'is not a public address'],
      ['https://user:pw@hooks.example.org/x', 'must not carry credentials'],
      ['javascript:alert(1)', 'must be an https:// URL'],
    ];
    for (const [url, words] of refused) {
      const res = await relay.admin('POST', '/api/clients', { name: `c ${url}`, webhook_url: url });
      expect(res.status, url).toBe(400);
      expect(res.json.error.param, url).toBe('webhook_url');
      expect(res.json.error.message, url).toContain(words);
    }
    const long = await relay.admin('POST', '/api/clients', {
      name: 'long',
      webhook_url: `https://hooks.example.org/${'a'.repeat(3000)}`,
    });
    expect(long.status).toBe(400);
    expect(long.json.error.param).toBe('webhook_url');
    const ok = await relay.admin('POST', '/api/clients', {
      name: 'fine',
      webhook_url: 'https://hooks.example.org/arena?t=1',
    });
    expect(ok.status).toBe(201);
    const patched = await relay.admin('PATCH', `/api/clients/${ok.json.client.id}`, {
      webhook_url: 'https://[fe80::1]/x',
    });
    expect(patched.status).toBe(400);
    expect((await relay.admin('GET', `/api/clients/${ok.json.client.id}`)).json.client.webhook_url).toBe(
      'https://hooks.example.org/arena?t=1',
    );
    expect((await relay.admin('GET', '/api/clients')).json.clients).toHaveLength(1);
  });

  it('without the allowance: a name that resolves to loopback at send time is refused and logged, nothing is sent', async () => {
    const defaults = await alertDefaults();
    const owner = await httpReceiver();
    const port = new URL(owner.url).port;
    const relay = await startTestRelay({
      alerts: { ...defaults, intervalMs: 0, ownerWebhook: { allowHttp: true, allowPrivate: false } },
      // The name passed the write-time check; by send time it resolves to this machine (rebinding).
      resolveOwnerWebhook: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const ops = await operatorWebhook(relay);
    const made = await relay.admin('POST', '/api/clients', {
      name: 'rebound',
      webhook_url: `http://hooks.example.test:${port}/x`,
    });
    expect(made.status).toBe(201);
    const agent = await connectRawAgent(relay.url, made.json.token);
    notReady(agent, false);
    await expect.poll(() => relay.hub.list()[0]?.ready).toBe(false);
    const t0 = Date.now();
    for (let t = t0; t <= t0 + 6 * MIN; t += 15_000) await relay.alerts.tick(t);
    expect(bodies(ops.received).map((b) => b.rule)).toContain('bridge_not_serving');
    const deliveries = (await relay.admin('GET', '/api/alerts/deliveries')).json.deliveries as Array<{
      channel_kind: string;
      error?: string;
    }>;
    const mine = deliveries.find((d) => d.channel_kind === 'owner_webhook');
    expect(mine?.error).toBe(
      'refused: hooks.example.test resolves to a non-public address (127.0.0.1 is not a public address)',
    );
    expect(owner.received).toEqual([]);
  });
});

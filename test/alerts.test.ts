/**
 * Alert rules end to end: a real relay (or three on Redis), a raw agent played into
 * `cloudflare_challenge`, a real webhook receiver for the operator and a real SMTP server for the
 * owner. Thresholds are driven by the engine's own clock (`alerts.tick(now)`), sockets are real.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import {
  bodies,
  MIN,
  notReady,
  operatorWebhook,
  alertDefaults as startDefaults,
} from './support/alerting.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { smtpReceiver, subjectOf } from './support/receivers.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';
import { startRelayProcess } from './support/relay-process.js';
import { REDIS_TEST_URL } from './support/store-backends.js';

// The defaults: bridge down 5 min, model outage 2 min, settle 2 min, quiet 30 min; no timer (tests tick).

describe('alerts', () => {
  it('a bridge stuck in a Cloudflare check: one alert to the operator and one to its owner, then one recovery each', async () => {
    const { mails, smtpUrl } = await smtpReceiver();
    const relay = await startTestRelay({ smtpUrl, alerts: { ...(await startDefaults()), intervalMs: 0 } });
    const hook = await operatorWebhook(relay);
    const owner = await relay.admin('POST', '/api/clients', {
      name: "Alice's bridge",
      email: 'alice@example.org',
    });
    const other = await relay.admin('POST', '/api/clients', {
      name: "Bob's bridge",
      email: 'bob@example.org',
    });
    const alice = await connectRawAgent(relay.url, owner.json.token, { hello: { models: ['gpt-5'] } });
    await connectRawAgent(relay.url, other.json.token, { hello: { models: ['claude'] } });

    const t0 = Date.now();
    notReady(alice, false);
    await expect
      .poll(() => relay.hub.list().find((s) => s.client.id === owner.json.client.id)?.ready)
      .toBe(false);
    for (let t = t0; t <= t0 + 4.5 * MIN; t += 15_000) await relay.alerts.tick(t);
    // gpt-5 has had no ready bridge for over 2 minutes: that one is out; the bridge's own is not yet.
    expect(bodies(hook.received).map((b) => b.rule)).toEqual(['model_outage']);
    for (let t = t0 + 4.75 * MIN; t <= t0 + 10 * MIN; t += 15_000) await relay.alerts.tick(t);
    const opened = bodies(hook.received).filter((b) => b.rule === 'bridge_not_serving');
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      kind: 'incident',
      labels: { client: owner.json.client.id, reason: 'cloudflare_challenge' },
    });
    expect(JSON.stringify(opened[0])).toMatch(/Fix: .*pass the check/);
    // The owner hears about their own bridge, once; Bob hears nothing.
    await expect.poll(() => mails.length).toBe(1);
    expect(mails[0]?.to).toEqual(['alice@example.org']);
    expect(subjectOf(mails[0]!)).toBe(`Bridge "Alice's bridge" is not serving (cloudflare_challenge)`);

    // Back: one recovery each, after the settle time; nothing more after.
    notReady(alice, true);
    await expect
      .poll(() => relay.hub.list().find((s) => s.client.id === owner.json.client.id)?.ready)
      .toBe(true);
    for (let t = t0 + 10.25 * MIN; t <= t0 + 20 * MIN; t += 15_000) await relay.alerts.tick(t);
    const rules = bodies(hook.received).map((b) => `${b.kind}:${b.rule}`);
    expect(rules).toEqual([
      'incident:model_outage',
      'incident:bridge_not_serving',
      'recovery:bridge_not_serving',
      'recovery:model_outage',
    ]);
    await expect.poll(() => mails.length).toBe(2);
    expect(mails.every((m) => m.to.join() === 'alice@example.org')).toBe(true);
    // An incident and its recovery share the id.
    const byRule = bodies(hook.received).filter((b) => b.rule === 'bridge_not_serving');
    expect(byRule[0]?.id).toBe(byRule[1]?.id);
  });

  it('a flapping bridge does not storm', async () => {
    const relay = await startTestRelay({ alerts: { ...(await startDefaults()), intervalMs: 0 } });
    const hook = await operatorWebhook(relay);
    const { token } = await relay.createClient('flappy');
    const agent = await connectRawAgent(relay.url, token);
    const t0 = Date.now();
    // Down 45 s of every minute for half an hour, evaluated every 15 s.
    for (let t = t0; t <= t0 + 30 * MIN; t += 15_000) {
      const down = (t - t0) % MIN < 45_000;
      notReady(agent, !down);
      await expect.poll(() => relay.hub.list()[0]?.ready).toBe(!down);
      await relay.alerts.tick(t);
    }
    expect(hook.received).toEqual([]);
  });

  it('three relays send each message once, and a restart of the sender mid-incident sends no duplicate', async () => {
    const { prefix, relays } = await startTestCluster(3, 250, {
      alerts: { ...(await startDefaults()), intervalMs: 0 },
    });
    const [a, b, c] = relays as [TestRelay, TestRelay, TestRelay];
    const hook = await operatorWebhook(a);
    const { id, token } = await a.createClient('clustered');
    const agent = await connectRawAgent(c.url, token); // on C
    notReady(agent, false);
    // A and B see C's agent not ready (with its reason) through the adverts.
    for (const relay of [a, b]) {
      await expect
        .poll(() => relay.cluster?.membership.agents().find((x) => x.clientId === id)?.seen.readyCode)
        .toBe('cloudflare_challenge');
    }
    const t0 = Date.now();
    const tickAll = async (from: number, to: number, who: TestRelay[]) => {
      for (let t = from; t <= to; t += 15_000) for (const relay of who) await relay.alerts.tick(t);
    };
    await tickAll(t0, t0 + 6 * MIN, [a, b, c]);
    const incidents = () => bodies(hook.received).filter((x) => x.rule === 'bridge_not_serving');
    expect(incidents().map((x) => x.kind)).toEqual(['incident']);

    // The lease holder is A (it ticked first); it stops, B takes over with the stored book.
    const redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.get(`${prefix}alerts:lease`)).toBe(a.relayId);
      await a.close();
      expect(await redis.get(`${prefix}alerts:lease`)).toBeNull();
    } finally {
      redis.disconnect();
    }
    await tickAll(t0 + 6.25 * MIN, t0 + 12 * MIN, [b, c]);
    expect(incidents().map((x) => x.kind)).toEqual(['incident']);
    notReady(agent, true);
    await expect
      .poll(() => b.cluster?.membership.agents().find((x) => x.clientId === id)?.seen.ready)
      .toBe(true);
    await tickAll(t0 + 12.25 * MIN, t0 + 20 * MIN, [b, c]);
    expect(incidents().map((x) => x.kind)).toEqual(['incident', 'recovery']);
  });
});

describe('alerts on budgets and lost relays', () => {
  it('a key crossing 80, 95 and 100 % of its daily tokens: one message each', async () => {
    const relay = await startTestRelay({ alerts: { ...(await startDefaults()), intervalMs: 0 } });
    const hook = await operatorWebhook(relay);
    const bridge = track(await startFakeBridge());
    const { token } = await relay.createClient('budget bridge');
    await startTestAgent(relay.url, token, bridge.url);
    const made = await relay.admin('POST', '/api/keys', { name: 'metered', limits: { tokens_per_day: 40 } });
    await expect.poll(() => relay.router.models()).toContain('gpt-5');
    // Spend until the key is refused for its daily tokens.
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${made.json.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
      });
      status = res.status;
      await res.arrayBuffer();
    }
    expect(status).toBe(429);
    const budget = () => bodies(hook.received).filter((b) => b.rule === 'key_budget');
    // Usage reaches the store in batches: evaluate until all three thresholds are seen.
    await expect
      .poll(async () => {
        await relay.alerts.tick();
        return budget().map((b) => b.labels.percent);
      })
      .toEqual(['80', '95', '100']);
    for (let i = 0; i < 5; i++) await relay.alerts.tick();
    expect(budget()).toHaveLength(3);
    expect(budget()[2]?.title).toBe('Key "metered" has used 100 % of its daily tokens');
  });

  it('a relay killed without a goodbye is reported once, and recovers when a successor joins', async () => {
    const { prefix, relays } = await startTestCluster(1, 250, {
      alerts: { ...(await startDefaults()), intervalMs: 0 },
    });
    const [a] = relays as [TestRelay];
    const hook = await operatorWebhook(a);
    const env = {
      ADMIN_TOKEN: a.adminToken,
      REDIS_URL: REDIS_TEST_URL,
      REDIS_PREFIX: prefix,
      CLUSTER_HEARTBEAT_INTERVAL: '0.25',
      ALERT_INTERVAL: '0',
      PORT: '0',
    };
    const start = () => startRelayProcess({ ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-alerts-')) });
    const doomed = await start();
    await expect.poll(() => a.cluster?.membership.relays().length).toBe(1);
    doomed.child.kill('SIGKILL');
    await expect.poll(() => a.cluster?.membership.relays().length, { timeout: 15_000 }).toBe(0);
    const t0 = Date.now();
    for (let t = t0; t <= t0 + 5 * MIN; t += 15_000) await a.alerts.tick(t);
    const lost = () => bodies(hook.received).filter((b) => b.rule === 'relay_lost');
    expect(lost().map((b) => b.kind)).toEqual(['incident']);
    // A graceful stop is not a loss.
    const polite = await start();
    await expect.poll(() => a.cluster?.membership.relays().length).toBe(1);
    for (let t = t0 + 5.25 * MIN; t <= t0 + 10 * MIN; t += 15_000) await a.alerts.tick(t);
    expect(lost().map((b) => b.kind)).toEqual(['incident', 'recovery']);
    polite.child.kill('SIGTERM');
    await polite.exited;
    await expect.poll(() => a.cluster?.membership.relays().length, { timeout: 15_000 }).toBe(0);
    for (let t = t0 + 10.25 * MIN; t <= t0 + 60 * MIN; t += 15_000) await a.alerts.tick(t);
    expect(lost().map((b) => b.kind)).toEqual(['incident', 'recovery']);
  });
});

/**
 * Redis beyond one node: two relays on a real Sentinel set-up (a master, a replica, three
 * `redis-server --sentinel` processes) under steady streaming load, and the master killed (-9). Within
 * 10 s both relays serve and rate-limit again on the promoted replica, every registration and key
 * acknowledged before the kill is still there (REDIS_WAIT_REPLICAS made each one reach the
 * replica first), and a relay started afterwards finds them through the Sentinels too.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './support/relay.js';
import { startSentinelSetup } from './support/sentinel.js';

const streamBody = JSON.stringify({
  model: 'gpt-5',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

async function ask(relay: TestRelay, key: string): Promise<{ status: number; complete: boolean }> {
  try {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: streamBody,
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return { status: res.status, complete: res.status !== 200 || text.trimEnd().endsWith('data: [DONE]') };
  } catch {
    return { status: 0, complete: false };
  }
}

/** Steady load: `loops` requests at a time, alternating relays, each loop ~10 requests/s. */
function load(relays: TestRelay[], key: string, loops = 2) {
  const results: Array<{ at: number; status: number; complete: boolean }> = [];
  let running = true;
  const done = Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = loop; running; i++) {
        const at = Date.now();
        results.push({ at, ...(await ask(relays[i % relays.length]!, key)) });
        await pause(100);
      }
    }),
  );
  return {
    results,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('Sentinel fail-over under load', () => {
  it('the master killed: relays serve and limit again on the promoted replica within 10 s, nothing acknowledged lost', {
    timeout: 90_000,
  }, async () => {
    const setup = await startSentinelSetup(3);
    const before = await setup.currentMaster();
    expect(before).toBe(`127.0.0.1:${setup.master.port}`);
    const options: TestRelayOptions = {
      redisSentinels: setup.sentinels,
      redisSentinelName: 'mymaster',
      redisPrefix: 'sentinel-test:',
      redisWaitReplicas: 1,
      redisWaitTimeoutMs: 500,
      clusterHeartbeatMs: 250,
    };
    const [a, b] = [await startTestRelay(options), await startTestRelay(options)];
    const bridge = track(await startFakeBridge());
    await startTestAgent(a.url, (await a.createClient('agent on a')).token, bridge.url);
    await startTestAgent(b.url, (await b.createClient('agent on b')).token, bridge.url);
    const { key } = await a.createKey('load');
    for (const r of [a, b]) await expect.poll(() => r.router.models()).toContain('gpt-5');

    const traffic = load([a, b], key);
    // Registrations and keys acknowledged under load, before the kill.
    const clients: Array<{ id: string; token: string }> = [];
    const keys: Array<{ id: string; key: string }> = [];
    for (let i = 0; i < 5; i++) {
      clients.push(await (i % 2 ? b : a).createClient(`registered ${i} é`));
      keys.push(await (i % 2 ? a : b).createKey(`key ${i}`));
    }
    await expect.poll(() => traffic.results.length).toBeGreaterThan(10);

    // Completed before the kill: all of them served, byte streams complete.
    const beforeKill = traffic.results.slice();
    await setup.master.kill();
    const killedAt = Date.now();

    // Back: Sentinel names a new master, both relays report Redis up, a fresh limited key is
    // created (a store write) and limited exactly across both relays (limiter on the new master).
    let attempt = 0;
    await expect
      .poll(
        async () => {
          attempt++;
          if ((await setup.currentMaster()) === before) return 'old master still named';
          for (const r of [a, b]) {
            const ready = (await (await fetch(`${r.url}/readyz`)).json()) as { redis: string };
            if (ready.redis !== 'up')
              // How each connection is doing, should the poll give up.
              return `redis ${ready.redis}: ${JSON.stringify((await r.admin('GET', '/api/relays')).json.relays[0].redis)}`;
          }
          const limited = await a.admin('POST', '/api/keys', {
            name: `limited ${attempt}`,
            limits: { requests_per_minute: 2 },
          });
          if (limited.status !== 201) return `key creation ${limited.status}`;
          const statuses = [];
          for (const r of [a, b, a]) statuses.push((await ask(r, limited.json.key)).status);
          return statuses.join(',');
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe('200,200,429');
    const recoveredAt = Date.now();
    expect(recoveredAt - killedAt).toBeLessThan(10_000);
    expect(await setup.currentMaster()).toBe(`127.0.0.1:${setup.replica.port}`);

    // Steady again: every request from now on succeeds, streams complete.
    const settledAt = Date.now();
    await expect
      .poll(() => traffic.results.filter((r) => r.at > settledAt).length, { timeout: 10_000 })
      .toBeGreaterThan(20);
    await traffic.stop();
    const afterRecovery = traffic.results.filter((r) => r.at >= settledAt);
    expect(beforeKill.length).toBeGreaterThan(10);
    expect(beforeKill.every((r) => r.status === 200 && r.complete)).toBe(true);
    expect(afterRecovery.filter((r) => r.status !== 200 || !r.complete)).toEqual([]);

    // Nothing acknowledged is lost: every client and key is listed by both relays...
    for (const r of [a, b]) {
      const listedClients = new Set(
        (await r.admin('GET', '/api/clients')).json.clients.map((c: { id: string }) => c.id),
      );
      const listedKeys = new Set(
        (await r.admin('GET', '/api/keys')).json.keys.map((k: { id: string }) => k.id),
      );
      expect(clients.filter((c) => !listedClients.has(c.id))).toEqual([]);
      expect(keys.filter((k) => !listedKeys.has(k.id))).toEqual([]);
    }
    // ...and works on a relay that starts now, with nothing cached: keys authenticate, tokens connect.
    const late = await startTestRelay(options);
    for (const k of keys) {
      const res = await fetch(`${late.url}/v1/models`, { headers: { authorization: `Bearer ${k.key}` } });
      expect(res.status).toBe(200);
    }
    for (const c of clients) {
      const agent = await connectRawAgent(late.url, c.token);
      await agent.close();
    }
  });
});

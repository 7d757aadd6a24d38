/**
 * Scale-out under failure, with relays as real processes: a relay killed under an agent or
 * under a consumer, agents moving to a surviving relay, and Redis going away for 10 s.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startPrivateRedis } from './support/private-redis.js';
import { readRest } from './support/read-rest.js';
import { startTestRelay } from './support/relay.js';
import { models, relayProcesses } from './support/relay-cluster.js';
import type { RelayProcess } from './support/relay-process.js';

const streamBody = JSON.stringify({
  model: 'gpt-5',
  stream: true,
  messages: [{ role: 'user', content: 'x' }],
});

/** Two relay processes, the agent on `back`, a slow stream entering `front` with its first chunk read. */
async function streamAcrossTwoRelays() {
  const { relays, token, key } = await relayProcesses(2);
  const [front, back] = relays as [RelayProcess, RelayProcess];
  const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 150 }));
  await startTestAgent(back.url, token, bridge.url);
  await expect.poll(() => models(front.url, key)).toContain('gpt-5');
  const res = await fetch(`${front.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: streamBody,
  });
  const reader = res.body!.getReader();
  await reader.read();
  return { front, back, bridge, reader };
}

// Each test starts two or three relay processes: on a loaded two-core machine that alone can take 20 s.
describe('relays killed with kill -9', { timeout: 60_000 }, () => {
  it('killing the relay that holds the agent mid-stream: error event and the end for the consumer', async () => {
    const { back, reader } = await streamAcrossTwoRelays();
    back.child.kill('SIGKILL');
    const rest = await readRest(reader);
    expect(rest).toMatch(
      /data: \{"error":\{"message":"[^"]*gone[^"]*","type":"api_error","param":null,"code":"agent_unavailable"\}\}\n\n$/,
    );
  });

  it('killing the relay that holds the consumer cancels the bridge request', async () => {
    const { front, bridge, reader } = await streamAcrossTwoRelays();
    front.child.kill('SIGKILL');
    await reader.closed.catch(() => undefined);
    const closed = await bridge.nextEarlyClose();
    expect(closed.closedEarly).toBe(true);
  });

  // With one connection the agent must move; with two (the default) it is already on the survivor.
  for (const connections of [1, 2]) {
    it(`a killed relay's agents serve again through a survivor within 5 s (connections: ${connections})`, async () => {
      const { relays, token, key } = await relayProcesses(3);
      const [a, b, c] = relays as [RelayProcess, RelayProcess, RelayProcess];
      const bridge = track(await startFakeBridge());
      const agent = await startTestAgent(`${c.url},${b.url}`, token, bridge.url, { connections });
      await expect.poll(() => models(a.url, key)).toContain('gpt-5');
      const reconnected = new Promise<void>((resolve) => agent.once('connected', () => resolve()));
      const killedAt = Date.now();
      c.child.kill('SIGKILL');
      if (connections === 1) await reconnected;
      await expect
        .poll(
          async () =>
            (
              await fetch(`${a.url}/v1/chat/completions`, {
                method: 'POST',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
                body: streamBody,
              })
            ).status,
          { timeout: 5000, interval: 100 },
        )
        .toBe(200);
      expect(Date.now() - killedAt).toBeLessThan(5000);
    });
  }
});

describe('Redis outage', () => {
  it('stopped for 10 s: no relay crashes, local traffic flows throughout, cross-relay traffic resumes after', async () => {
    const redis = await startPrivateRedis();
    const { url } = redis;
    const prefix = `arena-outage-${randomBytes(4).toString('hex')}:`;
    const a = await startTestRelay({ redisUrl: url, redisPrefix: prefix, clusterHeartbeatMs: 200 });
    const b = await startTestRelay({ redisUrl: url, redisPrefix: prefix, clusterHeartbeatMs: 200 });
    const bridgeA = track(await startFakeBridge({ models: ['local-a'] }));
    const bridgeB = track(await startFakeBridge({ models: ['only-on-b'] }));
    await startTestAgent(a.url, (await a.createClient('a')).token, bridgeA.url);
    await startTestAgent(b.url, (await a.createClient('b')).token, bridgeB.url);
    const { key } = await a.createKey();
    const ask = (model: string) =>
      fetch(`${a.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
    await expect.poll(async () => (await ask('only-on-b')).status).toBe(200);
    expect((await ask('local-a')).status).toBe(200);

    await redis.kill();
    const downAt = Date.now();
    let localOk = 0;
    let localFailed = 0;
    while (Date.now() - downAt < 10_000) {
      const res = await ask('local-a');
      await res.text();
      if (res.status === 200) localOk++;
      else localFailed++;
    }
    expect(localFailed).toBe(0);
    expect(localOk).toBeGreaterThan(10);
    const ready = (await (await fetch(`${a.url}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('degraded');

    await redis.restart();
    // Redis is back with its data: the relays reconnect, heartbeat again and forward again.
    await expect
      .poll(async () => (await ask('only-on-b')).status, { timeout: 10_000, interval: 200 })
      .toBe(200);
    expect(((await (await fetch(`${a.url}/readyz`)).json()) as { status: string }).status).toBe('ready');
  }, 40_000);
});

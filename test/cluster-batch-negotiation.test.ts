/**
 * A rolling upgrade mixes releases: a relay of the release before BATCH envelopes drops them. A
 * relay sends BATCH only to a relay that said it takes them, so streams between an old relay and
 * a new one are served whole both ways, while new relays still batch between themselves.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Kind } from '../relay/src/cluster/envelope.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';
import { REDIS_TEST_URL } from './support/store-backends.js';

// Many small events back to back: the agent's relay gets several DATA in one turn, which a new
// relay sends another as one BATCH.
const CHUNKS = Array.from({ length: 300 }, (_, i) => `é${i} `);

const normalise = (sse: string) =>
  sse.replace(/chatcmpl-[0-9a-f-]{36}/g, 'chatcmpl-ID').replace(/"created": \d+/g, '"created": 0');

/** Records the first byte (the kind) of every cross-relay message, per receiving relay. */
async function spyOnForwarding(prefix: string) {
  const redis = new Redis(REDIS_TEST_URL);
  track({ close: async () => redis.disconnect() });
  const kinds = new Map<string, number[]>();
  const channel = `${prefix}cluster:fwd:`;
  redis.on('pmessageBuffer', (_pattern: Buffer, name: Buffer, message: Buffer) => {
    const relayId = name.toString().slice(channel.length);
    kinds.set(relayId, [...(kinds.get(relayId) ?? []), message[0]!]);
  });
  await redis.psubscribe(`${channel}*`);
  return (relay: TestRelay) => kinds.get(relay.relayId) ?? [];
}

describe('BATCH envelopes in a cluster of mixed releases', () => {
  it('an old relay (never says it takes BATCH, drops them) is sent single messages; streams cross both ways whole', async () => {
    const { prefix, relays } = await startTestCluster(2);
    const [fresh, fresh2] = relays as [TestRelay, TestRelay];
    const old = await startTestRelay({
      redisUrl: REDIS_TEST_URL,
      redisPrefix: prefix,
      clusterHeartbeatMs: 250,
      clusterBatch: false,
    });
    const received = await spyOnForwarding(prefix);
    const onNew = track(await startFakeBridge({ models: ['model-new'], chunks: CHUNKS }));
    const onOld = track(await startFakeBridge({ models: ['model-old'], chunks: CHUNKS }));
    const { key } = await fresh.createKey();
    await startTestAgent(fresh.url, (await fresh.createClient()).token, onNew.url);
    await startTestAgent(old.url, (await old.createClient()).token, onOld.url);
    for (const relay of [fresh, fresh2, old])
      await expect
        .poll(() => relay.router.models())
        .toEqual(expect.arrayContaining(['model-new', 'model-old']));

    const body = (model: string) =>
      JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const direct = normalise(
      await (
        await fetch(`${onNew.url}/v1/chat/completions`, { method: 'POST', body: body('model-new') })
      ).text(),
    );
    const chat = async (relay: TestRelay, model: string) => {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body(model),
        // A message dropped by the old relay leaves the stream hanging: fail it well before the test's bound.
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      return normalise(await res.text()).replaceAll('model-old', 'model-new');
    };

    // New agent relay → old consumer relay, and old agent relay → new consumer relay.
    expect(await chat(old, 'model-new')).toBe(direct);
    expect(await chat(fresh, 'model-old')).toBe(direct);
    // Between new relays the same stream is batched (so batching was there to leave out).
    expect(await chat(fresh2, 'model-new')).toBe(direct);

    await expect.poll(() => received(fresh2)).toContain(Kind.BATCH);
    const toOld = received(old);
    const fromOld = received(fresh);
    expect(toOld).toContain(Kind.DATA); // the new relay's answer went to the old one…
    expect(toOld).not.toContain(Kind.BATCH); // …one message per publish
    expect(fromOld).toContain(Kind.DATA);
    expect(fromOld).not.toContain(Kind.BATCH);
  });
});

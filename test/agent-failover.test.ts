/**
 * An agent given several relay URLs (`--relay a,b`) outlives the relay it is on: when that relay
 * goes away (shut down, or killed with SIGKILL) the agent dials the next URL and serves from the
 * survivor within 5 s. The relays share one Redis prefix, so one client token is good on both.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';
import { startRelayProcess } from './support/relay-process.js';
import { REDIS_TEST_URL, redisAvailable, redisBackend } from './support/store-backends.js';

if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

const TEXT = DEFAULT_CHUNKS.join('');
const connectUrl = (relayUrl: string) => `${relayUrl.replace(/^http/, 'ws')}/agent/connect`;

/** A fresh Redis prefix, its keys removed after the test (tracked first, so disposed last). */
function sharedRedis() {
  const backend = redisBackend();
  track({ close: () => backend.dispose() });
  return { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix };
}

/** Streams one completion through `relayUrl` with the official client; returns the text. */
async function complete(relayUrl: string, key: string): Promise<string> {
  const openai = new OpenAI({ baseURL: `${relayUrl}/v1`, apiKey: key, maxRetries: 0 });
  const stream = await openai.chat.completions.create({
    model: 'gpt-5',
    stream: true,
    messages: [{ role: 'user', content: 'still there?' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('an agent with several relay URLs', () => {
  it('moves to the second relay when the first shuts down, and serves from it within 5 s', async () => {
    const redis = sharedRedis();
    const bridge = track(await startFakeBridge());
    const first = await startTestRelay(redis);
    const second = await startTestRelay(redis);
    const { token } = await first.createClient();
    const { key } = await first.createKey();
    // The production backoff (0.5 s base, full jitter), not the tests' quick one.
    const agent = await startTestAgent(
      `${first.url},${second.url}`,
      token,
      bridge.url,
      // One socket moving between relays (with the default two it would already hold both).
      { connections: 1 },
      { backoff: undefined },
    );
    expect(agent.status().relay_url).toBe(connectUrl(first.url));
    expect(await complete(first.url, key)).toBe(TEXT);

    const reconnected = new Promise<string>((resolve) => agent.once('connected', resolve));
    const downAt = Date.now();
    await first.close();
    await reconnected;
    expect(await complete(second.url, key)).toBe(TEXT);
    expect(Date.now() - downAt).toBeLessThan(5_000);
    expect(agent.status()).toMatchObject({
      connected: true,
      relay_url: connectUrl(second.url),
      reconnects: 1,
    });
    expect(second.hub.list()).toHaveLength(1);
  });

  it('moves on when its relay is killed with SIGKILL, and serves from the survivor within 5 s', async () => {
    const redis = sharedRedis();
    const env = { REDIS_URL: redis.redisUrl, REDIS_PREFIX: redis.redisPrefix, ADMIN_TOKEN };
    const bridge = track(await startFakeBridge());
    const [doomed, survivor] = await Promise.all([startRelayProcess(env), startRelayProcess(env)]);
    const admin = async (path: string, body: unknown) => {
      const res = await fetch(doomed.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { token: string; key: string };
    };
    const { token } = await admin('/api/clients', { name: 'failover bridge' });
    const { key } = await admin('/api/keys', { name: 'failover key' });
    const agent = await startTestAgent(
      `${doomed.url},${survivor.url}`,
      token,
      bridge.url,
      { connections: 1 },
      { backoff: undefined },
    );
    expect(agent.status().relay_url).toBe(connectUrl(doomed.url));

    const reconnected = new Promise<string>((resolve) => agent.once('connected', resolve));
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    await reconnected;
    expect(await complete(survivor.url, key)).toBe(TEXT);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(agent.status()).toMatchObject({ connected: true, relay_url: connectUrl(survivor.url) });
  });
});

/**
 * The consumer's request body crosses every hop as bytes (protocol v2): the relay's validator is
 * the only parser, and the bridge receives exactly what the consumer sent — spacing, key order,
 * escapes, non-ASCII — whether the agent sits on the relay the consumer called or on another one
 * of the cluster. A v1 agent (no `protocols` in hello) still gets the body inline in `open`.
 */
import { randomBytes } from 'node:crypto';
import { BODY_FRAME_BYTES, DataKind, PROTOCOL_V2, PROTOCOLS } from '@arena-relay/shared';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { keysUnder, REDIS_TEST_URL } from './support/store-backends.js';

/**
 * A chat body as a consumer might write it by hand: odd spacing, escapes JSON.stringify would not
 * produce, and megabytes of non-ASCII (more than one BODY frame).
 */
function handWrittenBody(): Buffer {
  const unit = '日本語のテキスト 🌍 ü “quotes” ';
  const big = unit.repeat(Math.ceil((2.5 * BODY_FRAME_BYTES) / Buffer.byteLength(unit)));
  return Buffer.from(
    `{ "messages" : [ { "role":"user", "content": "\\u00e9t\\u00e9 \\ud83c\\udf0d ${big}" } ],\n` +
      `  "stream": false, "x_extra": {"kept": [1, 2.50, "\\/"]},\t"model": "gpt-5" }`,
  );
}

/** A real answer: an empty one (`"choices": []`) is a failure the relay does not pass on. */
const ANSWER = '{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}';
const chat = (relay: TestRelay, key: string, body: Buffer) =>
  fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });

describe('request bodies as bytes (protocol v2)', () => {
  it('reach the bridge byte-exact through relay and agent', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    await startTestAgent(relay.url, token, bridge.url);
    const session = relay.hub.list()[0]!;
    expect(session.protocol).toBe(PROTOCOL_V2);
    const body = handWrittenBody();
    expect(body.length).toBeGreaterThan(2 * BODY_FRAME_BYTES);
    const answer = await chat(relay, key, body);
    expect(answer.status, await answer.clone().text()).toBe(200);
    await answer.text();
    const received = bridge.requests.at(-1)!;
    expect(received.raw.length).toBe(body.length);
    expect(received.raw.equals(body)).toBe(true);
  });

  it('reach the bridge byte-exact when the agent is on another relay of the cluster', async () => {
    const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
    track({
      async close() {
        const redis = new Redis(REDIS_TEST_URL);
        const keys = await keysUnder(redis, prefix);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      },
    });
    const options = { redisUrl: REDIS_TEST_URL, redisPrefix: prefix, clusterHeartbeatMs: 250 };
    const a = await startTestRelay(options);
    const b = await startTestRelay(options);
    const bridge = track(await startFakeBridge());
    const { token } = await a.createClient();
    const { key } = await a.createKey();
    await startTestAgent(b.url, token, bridge.url); // the agent sits on relay B
    await expect.poll(() => a.router.models()).toContain('gpt-5');
    const body = handWrittenBody();
    const answer = await chat(a, key, body);
    expect(answer.status, await answer.clone().text()).toBe(200);
    await answer.text();
    expect(bridge.requests.at(-1)!.raw.equals(body)).toBe(true);
  });

  it('a v2 raw agent gets bodyBytes and the model in open, then the bytes in BODY frames', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, token, { hello: { protocols: [...PROTOCOLS] } });
    expect(agent.frames[0]).toMatchObject({ type: 'welcome', protocol: PROTOCOL_V2 });
    const body = Buffer.from('{"model":"gpt-5","messages":[{"role":"user","content":"ça va? 🌍"}]}');
    const pending = chat(relay, key, body);
    const open = await agent.next('open');
    expect(open).toMatchObject({ bodyBytes: body.length, model: 'gpt-5' });
    expect(open).not.toHaveProperty('body');
    await expect.poll(() => agent.binary.length).toBe(1);
    expect(agent.binary[0]).toMatchObject({ kind: DataKind.BODY, stream: open.stream });
    expect(agent.binary[0]!.payload.equals(body)).toBe(true);
    agent.head(open.stream, 'application/json');
    agent.data(open.stream, ANSWER);
    agent.end(open.stream);
    expect((await pending).status).toBe(200);
  });

  it('a v1 agent (no protocols in hello) still gets the body inline, and no binary frame', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, token);
    expect(agent.frames[0]).not.toHaveProperty('protocol');
    const value = { model: 'gpt-5', messages: [{ role: 'user', content: 'naïve café 🌍' }] };
    const pending = chat(relay, key, Buffer.from(JSON.stringify(value)));
    const open = await agent.next('open');
    expect(open.body).toEqual(value);
    expect(open).not.toHaveProperty('bodyBytes');
    agent.head(open.stream, 'application/json');
    agent.data(open.stream, ANSWER);
    agent.end(open.stream);
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(ANSWER);
    expect(agent.binary).toEqual([]);
  });
});

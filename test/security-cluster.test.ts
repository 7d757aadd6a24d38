/**
 * Relays in a cluster trust Redis (see SECURITY.md), but a malformed message on a relay's
 * pub/sub channel (a buggy or compromised peer, anyone who can PUBLISH) must be dropped, not
 * crash the relay that receives it: the envelope decoder is the only gate.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_BATCH_LIMIT,
  ENVELOPE_BATCH_MESSAGES,
  encodeBatch,
  encodeControl,
  encodeData,
  Kind,
} from '../relay/src/cluster/envelope.js';
import { track } from './support/cleanup.js';
import { connectRawAgent } from './support/raw-agent.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';
import { startRelayProcess } from './support/relay-process.js';
import { keysUnder, REDIS_TEST_URL, redisAvailable } from './support/store-backends.js';

if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

/** An origin relay (a process, so a crash is a real exit) and a relay holding one raw agent. */
async function originAndHolder() {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_TEST_URL);
  track({
    async close() {
      const keys = await keysUnder(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  });
  const origin = await startRelayProcess({
    REDIS_URL: REDIS_TEST_URL,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-cluster-')),
    CLUSTER_HEARTBEAT_INTERVAL: '0.1',
  });
  const exit = { reason: undefined as string | undefined };
  origin.child.once('exit', (code, signal) => {
    exit.reason = `exit code ${code}, signal ${signal}`;
  });
  const holder = await startTestRelay({
    redisUrl: REDIS_TEST_URL,
    redisPrefix: prefix,
    clusterHeartbeatMs: 100,
  });
  const { key } = await holder.createKey();
  const agent = await connectRawAgent(holder.url, (await holder.createClient()).token);
  const originId = (await redis.zrange(`${prefix}cluster:relays`, 0, -1)).find((id) => id !== holder.relayId);
  expect(originId).toBeDefined();
  const models = async () => {
    const res = await fetch(`${origin.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { data?: unknown[] }).data?.length ?? 0;
  };
  await expect.poll(models, { timeout: 5000 }).toBe(1);

  /** A consumer on the origin; its stream is forwarded (ref 1) to the agent on the other relay. */
  const ask = () =>
    fetch(`${origin.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const forge = (message: Buffer) => redis.publish(`${prefix}cluster:fwd:${originId}`, message);
  /** The agent's 200 SSE head for `stream`. */
  const sseHead = (stream: number) =>
    agent.send({ type: 'head', stream, status: 200, headers: { 'content-type': 'text/event-stream' } });
  /** The agent's last event for `stream`, and its end. */
  const finish = (stream: number, event: string) => {
    agent.data(stream, event);
    agent.send({ type: 'end', stream });
  };
  return { origin, agent, ask, forge, exit, sseHead, finish };
}

// A relay process and a relay per test: on a loaded 2-core box setting them up alone takes ~15 s.
describe('a forged cluster message', { timeout: 60_000 }, () => {
  it('a HEAD with an impossible status for a live forwarded stream is dropped; the origin relay keeps serving', async () => {
    const { origin, agent, ask, forge, exit, sseHead, finish } = await originAndHolder();
    const response = ask().then(
      (res) => res.status,
      () => 'no answer',
    );
    const open = await agent.next('open');
    for (const status of [0, 99, 1000, -1]) {
      await forge(encodeControl(Kind.HEAD, { ref: 1, status, headers: {} }));
    }
    // The real answer still goes through.
    sseHead(open.stream);
    finish(open.stream, 'data: {}\n\n');
    expect(await response).toBe(200);
    expect(exit.reason, 'the origin relay died').toBeUndefined();
    expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
  });

  it('hostile, malformed and oversized BATCHes are dropped whole; the forwarded stream is served exactly as the agent answered', async () => {
    const { origin, agent, ask, forge, exit, sseHead, finish } = await originAndHolder();
    const response = ask().then(
      async (res) => ({ status: res.status, text: await res.text() }),
      () => ({ status: 0, text: 'no answer' }),
    );
    const open = await agent.next('open');
    sseHead(open.stream);
    agent.data(open.stream, 'data: {"n":1}\n\n');
    const forged = encodeData(1, Buffer.from('data: {"forged":true}\n\n'));
    const batch = (messages: Buffer[]) =>
      encodeBatch(
        messages,
        messages.reduce((n, m) => n + m.length, 0),
      );
    const lying = batch([forged, forged]);
    lying.writeUInt32BE(0xffff_ffff, 1);
    const hostile = [
      // A valid DATA next to a member that is not: nothing of the batch is acted on.
      batch([forged, encodeControl(Kind.HEAD, { ref: 1, status: 99, headers: {} })]),
      batch([forged, batch([forged, forged])]),
      batch([forged, Buffer.from([Kind.ERROR, 0x7b, 0x00, 0xff])]),
      lying,
      batch([forged, forged]).subarray(0, 20),
      batch([encodeData(1, Buffer.alloc(ENVELOPE_BATCH_LIMIT, 0x61))]),
      batch(Array.from({ length: ENVELOPE_BATCH_MESSAGES + 1 }, () => forged)),
      Buffer.from([Kind.BATCH]),
    ];
    for (const message of hostile) await forge(message);
    // The real answer still goes through, untouched by any of it.
    finish(open.stream, 'data: {"n":2}\n\n');
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('data: {"n":1}');
    expect(answer.text).toContain('data: {"n":2}');
    expect(answer.text).not.toContain('forged');
    expect(exit.reason, 'the origin relay died').toBeUndefined();
    expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
    // And it still serves the next forwarded stream.
    const next = ask().then(async (res) => `${res.status} ${await res.text()}`);
    const again = await agent.next('open');
    sseHead(again.stream);
    finish(again.stream, 'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n');
    expect(await next).toMatch(/^200 /);
  });
});

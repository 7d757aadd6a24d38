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
import { encodeControl, Kind } from '../relay/src/cluster/envelope.js';
import { track } from './support/cleanup.js';
import { connectRawAgent } from './support/raw-agent.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';
import { startRelayProcess } from './support/relay-process.js';
import { keysUnder, REDIS_TEST_URL, redisAvailable } from './support/store-backends.js';

if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

describe('a forged cluster message', () => {
  it('a HEAD with an impossible status for a live forwarded stream is dropped; the origin relay keeps serving', async () => {
    const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
    const redis = new Redis(REDIS_TEST_URL);
    track({
      async close() {
        const keys = await keysUnder(redis, prefix);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    });
    // The origin relay (holding the consumer) runs as a process, so that a crash is a real exit.
    const origin = await startRelayProcess({
      REDIS_URL: REDIS_TEST_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-cluster-')),
      CLUSTER_HEARTBEAT_INTERVAL: '0.1',
    });
    let exited: string | undefined;
    origin.child.once('exit', (code, signal) => {
      exited = `exit code ${code}, signal ${signal}`;
    });
    const holder = await startTestRelay({
      redisUrl: REDIS_TEST_URL,
      redisPrefix: prefix,
      clusterHeartbeatMs: 100,
    });
    const { key } = await holder.createKey();
    const agent = await connectRawAgent(holder.url, (await holder.createClient()).token);
    const originId = (await redis.zrange(`${prefix}cluster:relays`, 0, -1)).find(
      (id) => id !== holder.relayId,
    );
    expect(originId).toBeDefined();
    const models = async () => {
      const res = await fetch(`${origin.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      return ((await res.json()) as { data?: unknown[] }).data?.length ?? 0;
    };
    await expect.poll(models, { timeout: 5000 }).toBe(1);

    // A consumer on the origin; its stream is forwarded (ref 1) to the agent on the other relay.
    const response = fetch(`${origin.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }).then(
      (res) => res.status,
      () => 'no answer',
    );
    const open = await agent.next('open');
    for (const status of [0, 99, 1000, -1]) {
      await redis.publish(
        `${prefix}cluster:fwd:${originId}`,
        encodeControl(Kind.HEAD, { ref: 1, status, headers: {} }),
      );
    }
    // The real answer still goes through.
    agent.send({
      type: 'head',
      stream: open.stream,
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
    });
    agent.data(open.stream, 'data: {}\n\n');
    agent.send({ type: 'end', stream: open.stream });
    expect(await response).toBe(200);
    expect(exited, 'the origin relay died').toBeUndefined();
    expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
  });
});

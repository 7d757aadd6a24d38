/**
 * Redis is a trust boundary (SECURITY.md): the relay runs with a Redis ACL user that may touch
 * only its own key prefix and channels, so one Redis can hold several deployments and a leaked
 * relay credential reaches no one else's keys; and it reaches Redis over TLS (`rediss://`) on a
 * private CA. Real Redis servers, a real ACL user, two relays.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startPrivateRedis } from './support/private-redis.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { dropKeysAfterwards } from './support/relay-cluster.js';
import { REDIS_TEST_URL } from './support/store-backends.js';
import { createTestPki } from './support/tls.js';

const admin = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 });
const users: string[] = [];
afterAll(async () => {
  for (const user of users) await admin.call('ACL', 'DELUSER', user);
  admin.disconnect();
});

/**
 * An ACL user limited to `prefix`: its keys, its pub/sub channels, and no administrative or
 * dangerous command but INFO (no KEYS, FLUSHALL, CONFIG, DEBUG, ACL, …): the line SECURITY.md gives.
 */
async function prefixUser(prefix: string): Promise<{ user: string; password: string }> {
  const user = `arena-acl-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  users.push(user);
  await admin.call(
    'ACL',
    'SETUSER',
    user,
    'reset',
    'on',
    `>${password}`,
    `~${prefix}*`,
    `&${prefix}*`,
    '+@all',
    '-@dangerous',
    '-@admin',
    // ioredis's ready check asks INFO whether Redis is still loading its data after a restart.
    '+info',
  );
  return { user, password };
}

const body = JSON.stringify({ model: 'gpt-5', stream: false, messages: [{ role: 'user', content: 'hi' }] });

describe('a relay on a Redis ACL user that may touch only its prefix', () => {
  it('registers, routes across relays, limits and meters, and can reach nothing outside its prefix', async () => {
    const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
    dropKeysAfterwards(REDIS_TEST_URL, prefix);
    const { user, password } = await prefixUser(prefix);
    const url = new URL(REDIS_TEST_URL);
    url.username = user;
    url.password = password;
    const options = { redisUrl: url.toString(), redisPrefix: prefix, clusterHeartbeatMs: 250 };
    const a: TestRelay = await startTestRelay(options);
    const b: TestRelay = await startTestRelay(options);

    const bridge = track(await startFakeBridge());
    const { token } = await a.createClient('acl bridge');
    const { key } = await b.createKey('acl key');
    await startTestAgent(b.url, token, bridge.url); // the agent on B, the consumer on A
    await expect.poll(() => a.router.models()).toContain('gpt-5');

    const res = await fetch(`${a.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(json.choices[0]?.message.content).toBe(DEFAULT_CHUNKS.join(''));
    // Usage reached the shared store through the same user.
    await expect
      .poll(async () => {
        const usage = await fetch(`${b.url}/api/usage`, {
          headers: { authorization: `Bearer ${b.adminToken}` },
        });
        return JSON.stringify(await usage.json());
      })
      .toMatch(/"requests":\s*[1-9]/);

    // What the same credential cannot do.
    const limited = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
    try {
      await expect(limited.get('someone-else:clients')).rejects.toThrow(/NOPERM/);
      await expect(limited.publish('someone-else:events', 'x')).rejects.toThrow(/NOPERM/);
      await expect(limited.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
      await expect(limited.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
      expect(await limited.set(`${prefix}probe`, '1')).toBe('OK');
    } finally {
      limited.disconnect();
    }
  });

  it('a wrong ACL password fails the start with a clear error that does not carry the password', async () => {
    const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
    const { user } = await prefixUser(prefix);
    const url = new URL(REDIS_TEST_URL);
    url.username = user;
    url.password = 'not-the-password-4b1d';
    const start = startTestRelay({ redisUrl: url.toString(), redisPrefix: prefix });
    const error = await start.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/cannot connect to Redis/);
    expect(error?.message).not.toContain('not-the-password-4b1d');
  });
});

describe('a relay on rediss:// with a private CA', () => {
  it('serves with REDIS_CA_FILE, and refuses to start on an unverified certificate', async () => {
    const pki = createTestPki();
    track({ close: async () => pki.close() });
    const redis = await startPrivateRedis([], {
      tls: { certFile: pki.certFile, keyFile: pki.keyFile, caPem: pki.caPem },
    });
    expect(redis.url).toMatch(/^rediss:/);
    const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;

    const relay = await startTestRelay({ redisUrl: redis.url, redisCaFile: pki.caFile, redisPrefix: prefix });
    const bridge = track(await startFakeBridge());
    const { token } = await relay.createClient('tls bridge');
    const { key } = await relay.createKey('tls key');
    await startTestAgent(relay.url, token, bridge.url);
    await expect.poll(() => relay.router.models()).toContain('gpt-5');
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);

    // Without the CA the certificate cannot be verified: the relay does not start.
    const error = await startTestRelay({ redisUrl: redis.url, redisPrefix: prefix }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/cannot connect to Redis at rediss:.*certificate/i);
  });
});

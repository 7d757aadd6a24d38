/**
 * The Redis store in a running relay (REDIS_URL): relays on one prefix share clients and keys.
 * And when Redis is down, the store fails fast instead of hanging requests.
 */
import { CloseCode } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { openRedisStore } from '../relay/src/store/redis-store.js';
import { hashSecret } from '../relay/src/store/secrets.js';
import { TOKEN_ROTATED_REASON } from '../relay/src/tunnel/token-retirement.js';
import { track } from './support/cleanup.js';
import { freePort, startPrivateRedis } from './support/private-redis.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';
import { REDIS_TEST_URL, redisAt, redisAvailable, redisBackend } from './support/store-backends.js';

// These suites need the Redis at REDIS_TEST_URL and the redis-server binary (`.ci/run` provides both).
const redisUp = await redisAvailable();
if (!redisUp) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

describe('relays on Redis', () => {
  it('two relays on one prefix share clients and keys', async () => {
    const backend = redisBackend();
    // Tracked first, so disposed last: after both relays have closed.
    track({ close: () => backend.dispose() });
    const options = { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix };
    const a = await startTestRelay(options);
    const b = await startTestRelay(options);
    const client = await a.createClient('shared bridge');
    const { key } = await a.createKey();

    expect((await b.admin('GET', '/api/clients')).json.clients.map((c: { id: string }) => c.id)).toEqual([
      client.id,
    ]);
    expect((await b.admin('POST', '/api/clients', { name: 'SHARED BRIDGE' })).status).toBe(409);
    const models = await fetch(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    await connectRawAgent(b.url, client.token);
    expect((await a.admin('GET', `/api/clients/${client.id}`)).json.client.status).toBe('active');
    // Nothing went to the embedded store.
    expect(await backend.atRest()).toContain(hashSecret(client.token));
  });
});

describe('admin token on a shared store', () => {
  it('relays starting together without ADMIN_TOKEN keep one generated token, accepted by all', async () => {
    const backend = redisBackend();
    track({ close: () => backend.dispose() });
    const options = { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix, adminToken: undefined };
    const relays = await Promise.all([
      startTestRelay(options),
      startTestRelay(options),
      startTestRelay(options),
    ]);
    const generated = relays.map((r) => r.generatedAdminToken).filter((t) => t !== undefined);
    expect(generated).toHaveLength(1);
    for (const relay of relays) {
      const res = await fetch(`${relay.url}/api/clients`, {
        headers: { authorization: `Bearer ${generated[0]}` },
      });
      expect(res.status).toBe(200);
    }
  });
});

describe('Redis outages', () => {
  it('refuses to open, quickly and clearly, when Redis is unreachable', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(openRedisStore({ redis: redisAt(`redis://127.0.0.1:${port}`) })).rejects.toThrow(
      `cannot connect to Redis at redis://127.0.0.1:${port}`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails commands within seconds when Redis dies, and still closes', async () => {
    const redis = await startPrivateRedis();
    const store = await openRedisStore({ redis: redisAt(redis.url) });
    await store.setSetting('x', '1');
    await redis.kill();

    const started = Date.now();
    await expect(store.getSetting('x')).rejects.toThrow();
    await expect(store.listClients()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
  });
});

describe('credentials and scopes on Redis', () => {
  it('a key written before the per-route scope table keeps what its chat scope opened', async () => {
    const backend = redisBackend();
    track({ close: () => backend.dispose() });
    const store = track(await backend.open());
    const key = await store.createApiKey({
      name: 'old',
      scopes: ['chat', 'models'],
      keyHash: hashSecret('k'),
      preview: 'k',
    });
    // As an older relay wrote it: no scope_table field.
    await backend.redis.hdel(`${backend.prefix}key:${key.id}`, 'scope_table');
    expect((await store.findApiKeyByHash(hashSecret('k')))?.scopes).toEqual([
      'chat',
      'models',
      'messages',
      'responses',
    ]);
    // Scopes written now are read as written.
    expect((await store.updateApiKey(key.id, { scopes: ['chat'] }))?.scopes).toEqual(['chat']);
  });

  it('a rotation on one relay closes the old token’s agent on another when the grace ends', async () => {
    const backend = redisBackend();
    track({ close: () => backend.dispose() });
    const options = { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix };
    const a = await startTestRelay(options);
    const b = await startTestRelay(options);
    const client = await a.createClient();
    const agent = await connectRawAgent(b.url, client.token);
    const rotatedAt = Date.now();
    expect((await a.admin('POST', `/api/clients/${client.id}/rotate-token?grace_seconds=1`)).status).toBe(
      200,
    );
    const closed = await agent.closed;
    expect(closed).toEqual({ code: CloseCode.TOKEN_ROTATED, reason: TOKEN_ROTATED_REASON });
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(900);
  });
});

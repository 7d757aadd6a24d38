/**
 * One contract, two stores: every Store method, run against the embedded (SQLite) store and
 * the Redis store. The Redis half needs the Redis at REDIS_TEST_URL (`.ci/run` starts one) and
 * fails, saying so, when none answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, secretPreview } from '../relay/src/store/secrets.js';
import { DuplicateNameError, type NewApiKey, type NewClient, type Store } from '../relay/src/store/store.js';
import {
  keysUnder,
  REDIS_TEST_URL,
  redisAvailable,
  redisBackend,
  type StoreBackend,
  sqliteBackend,
} from './support/store-backends.js';

const redisUp = await redisAvailable();

function newClient(name: string, extra: Partial<NewClient> = {}) {
  const token = generateSecret('clientToken');
  const input: NewClient = {
    name,
    email: null,
    lmarena_bridge_url: null,
    capabilities: ['chat'],
    metadata: {},
    tokenHash: hashSecret(token),
    tokenPreview: secretPreview(token),
    ...extra,
  };
  return { token, input };
}

function newKey(name: string, extra: Partial<NewApiKey> = {}) {
  const key = generateSecret('apiKey');
  const input: NewApiKey = {
    name,
    scopes: ['chat', 'models'],
    keyHash: hashSecret(key),
    preview: secretPreview(key),
    ...extra,
  };
  return { key, input };
}

const rows = [
  { name: 'sqlite', available: true, make: (): StoreBackend => sqliteBackend() },
  { name: 'redis', available: redisUp, make: (): StoreBackend => redisBackend() },
];

describe.each(rows)('$name store', ({ name: kind, available, make }) => {
  const test = it;
  let backend: StoreBackend;
  let store: Store;

  beforeEach(async () => {
    if (!available) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);
    backend = make();
    store = await backend.open();
  });
  afterEach(async () => {
    if (!available) return;
    await store.close();
    await backend.dispose();
  });

  const reopen = async () => {
    await store.close();
    store = await backend.open();
  };

  describe('clients', () => {
    test('create returns the full record with defaults; get and list agree', async () => {
      const { input } = newClient('Alice', {
        email: 'alice@example.com',
        lmarena_bridge_url: 'http://127.0.0.1:5102',
        capabilities: ['chat', 'images'],
        rate_limit: { requests_per_minute: 60 },
        metadata: { team: 'x', n: 1 },
      });
      const created = await store.createClient(input);
      expect(created).toEqual({
        id: expect.stringMatching(/^cl_/),
        name: 'Alice',
        email: 'alice@example.com',
        webhook_url: null,
        lmarena_bridge_url: 'http://127.0.0.1:5102',
        capabilities: ['chat', 'images'],
        rate_limit: { requests_per_minute: 60, requests_per_day: null, max_concurrency: null },
        status: 'pending',
        created_at: expect.any(String),
        last_seen: null,
        metadata: { team: 'x', n: 1 },
        token_preview: input.tokenPreview,
        total_requests: 0,
        successful_requests: 0,
        failed_requests: 0,
        avg_response_ms: null,
        health: 'unknown',
      });
      expect(Date.parse(created.created_at)).toBeGreaterThan(Date.now() - 60_000);
      expect(await store.getClient(created.id)).toEqual(created);
      expect(await store.getClient('cl_nope')).toBeUndefined();
      const second = await store.createClient(newClient('Bob').input);
      expect((await store.listClients()).map((c) => c.id)).toEqual([created.id, second.id]);
    });

    test('findClientByTokenHash finds the current token, whatever the status', async () => {
      const { input } = newClient('a');
      const client = await store.createClient(input);
      expect((await store.findClientByTokenHash(input.tokenHash))?.id).toBe(client.id);
      expect(await store.findClientByTokenHash(hashSecret('art_unknown'))).toBeUndefined();
      await store.updateClient(client.id, { status: 'disabled' });
      expect(await store.findClientByTokenHash(input.tokenHash)).toMatchObject({
        id: client.id,
        status: 'disabled',
      });
    });

    test('update has PATCH semantics', async () => {
      const { input } = newClient('a', {
        email: 'a@example.com',
        lmarena_bridge_url: 'http://x',
        rate_limit: { requests_per_minute: 10, max_concurrency: 2 },
        metadata: { keep: false, old: 1 },
      });
      const client = await store.createClient(input);
      const patched = await store.updateClient(client.id, {
        email: null,
        rate_limit: { requests_per_minute: null, requests_per_day: 1000 },
        metadata: { keep: true },
      });
      expect(patched).toEqual({
        ...client,
        email: null,
        rate_limit: { requests_per_minute: null, requests_per_day: 1000, max_concurrency: 2 },
        metadata: { keep: true },
      });
      const again = await store.updateClient(client.id, {
        capabilities: ['images'],
        lmarena_bridge_url: null,
      });
      expect(again).toMatchObject({ capabilities: ['images'], lmarena_bridge_url: null, name: 'a' });
      expect(await store.updateClient(client.id, {})).toEqual(again);
      expect(await store.getClient(client.id)).toEqual(again);
      expect(await store.updateClient('cl_nope', { name: 'x' })).toBeUndefined();
    });

    test('an owner webhook: the URL is in the record, its secret only behind getClientWebhookSecret', async () => {
      const { input } = newClient('hooked', {
        webhook_url: 'https://hooks.example.org/a',
        webhook_secret: 'arw_first',
      });
      const client = await store.createClient(input);
      expect(client.webhook_url).toBe('https://hooks.example.org/a');
      expect(JSON.stringify(client)).not.toContain('arw_first');
      expect(JSON.stringify(await store.listClients())).not.toContain('arw_first');
      expect(await store.getClientWebhookSecret(client.id)).toBe('arw_first');
      // Other changes keep both; a new URL comes with a new secret; null clears them.
      await store.updateClient(client.id, { email: 'o@example.org' });
      expect(await store.getClientWebhookSecret(client.id)).toBe('arw_first');
      await reopen();
      const moved = await store.updateClient(client.id, {
        webhook_url: 'https://hooks.example.org/b',
        webhook_secret: 'arw_second',
      });
      expect(moved?.webhook_url).toBe('https://hooks.example.org/b');
      expect(await store.getClientWebhookSecret(client.id)).toBe('arw_second');
      const cleared = await store.updateClient(client.id, { webhook_url: null, webhook_secret: null });
      expect(cleared?.webhook_url).toBeNull();
      expect(await store.getClientWebhookSecret(client.id)).toBeUndefined();
      expect(await store.getClientWebhookSecret('cl_nope')).toBeUndefined();
    });

    test('status: disable, re-enable (pending until first connect), touch never re-enables', async () => {
      const client = await store.createClient(newClient('a').input);
      expect((await store.updateClient(client.id, { status: 'disabled' }))?.status).toBe('disabled');
      expect((await store.updateClient(client.id, { status: 'active' }))?.status).toBe('pending');
      const at = new Date('2030-01-02T03:04:05.000Z');
      await store.touchClient(client.id, at);
      expect(await store.getClient(client.id)).toMatchObject({
        status: 'active',
        last_seen: at.toISOString(),
      });
      await store.updateClient(client.id, { status: 'disabled' });
      await store.touchClient(client.id, new Date());
      expect((await store.getClient(client.id))?.status).toBe('disabled');
      expect((await store.updateClient(client.id, { status: 'active' }))?.status).toBe('active');
    });

    test('touching an unknown client changes nothing', async () => {
      await store.touchClient('cl_ghost', new Date());
      expect(await store.getClient('cl_ghost')).toBeUndefined();
      expect(await store.listClients()).toEqual([]);
    });

    test('names are unique case-insensitively, on create and on rename', async () => {
      const alice = await store.createClient(newClient('Alice').input);
      await expect(store.createClient(newClient('alice').input)).rejects.toBeInstanceOf(DuplicateNameError);
      await expect(store.createClient(newClient('ALICE').input)).rejects.toThrow(/already exists/);
      const bob = await store.createClient(newClient('Bob').input);
      await expect(store.updateClient(bob.id, { name: 'aLiCe' })).rejects.toBeInstanceOf(DuplicateNameError);
      expect((await store.getClient(bob.id))?.name).toBe('Bob');
      // Renaming to a different case of one's own name is fine, and frees nothing else.
      expect((await store.updateClient(alice.id, { name: 'ALICE' }))?.name).toBe('ALICE');
      // A rename frees the old name.
      await store.updateClient(bob.id, { name: 'Robert' });
      expect((await store.createClient(newClient('bob').input)).name).toBe('bob');
      expect(await store.listClients()).toHaveLength(3);
    });

    test('delete removes the record, its token and its name', async () => {
      const { input } = newClient('gone');
      const client = await store.createClient(input);
      expect(await store.deleteClient(client.id)).toBe(true);
      expect(await store.deleteClient(client.id)).toBe(false);
      expect(await store.getClient(client.id)).toBeUndefined();
      expect(await store.findClientByTokenHash(input.tokenHash)).toBeUndefined();
      expect(await store.listClients()).toEqual([]);
      expect((await store.createClient(newClient('GONE').input)).name).toBe('GONE');
    });

    test('rotating the token retires the old one at once (no grace), and knows it as rotated', async () => {
      const { input } = newClient('a');
      const client = await store.createClient(input);
      const token = generateSecret('clientToken');
      const before = Date.now();
      const rotated = await store.rotateClientToken(client.id, hashSecret(token), secretPreview(token));
      expect(rotated).toEqual({ ...client, token_preview: secretPreview(token) });
      expect(await store.findClientByTokenHash(input.tokenHash)).toBeUndefined();
      expect((await store.findClientByTokenHash(hashSecret(token)))?.id).toBe(client.id);
      const old = await store.findClientToken(input.tokenHash);
      expect(old?.client.id).toBe(client.id);
      expect(old?.retiresAt).toBeGreaterThanOrEqual(before);
      expect(old?.retiresAt).toBeLessThanOrEqual(Date.now());
      expect((await store.findClientToken(hashSecret(token)))?.retiresAt).toBeNull();
      expect(await store.rotateClientToken('cl_nope', hashSecret('x'), 'x')).toBeUndefined();
    });

    test('a rotation with grace keeps the old token until then; the next rotation forgets it', async () => {
      const { input } = newClient('a');
      const client = await store.createClient(input);
      const second = generateSecret('clientToken');
      const until = Date.now() + 60_000;
      await store.rotateClientToken(client.id, hashSecret(second), secretPreview(second), until);
      expect((await store.findClientByTokenHash(input.tokenHash))?.id).toBe(client.id);
      expect(await store.findClientToken(input.tokenHash)).toMatchObject({ retiresAt: until });
      const third = generateSecret('clientToken');
      await store.rotateClientToken(client.id, hashSecret(third), secretPreview(third), until);
      // One previous token at a time: the first is gone altogether, the second is in grace.
      expect(await store.findClientToken(input.tokenHash)).toBeUndefined();
      expect((await store.findClientByTokenHash(hashSecret(second)))?.id).toBe(client.id);
      expect((await store.findClientByTokenHash(hashSecret(third)))?.id).toBe(client.id);
      // Deleting the client forgets both.
      await store.deleteClient(client.id);
      expect(await store.findClientToken(hashSecret(second))).toBeUndefined();
      expect(await store.findClientToken(hashSecret(third))).toBeUndefined();
    });

    test('outcomes feed the live stats and the health rule', async () => {
      const client = await store.createClient(newClient('a').input);
      for (let i = 0; i < 4; i++) await store.recordClientOutcome(client.id, { ok: true, durationMs: 100 });
      expect(await store.getClient(client.id)).toMatchObject({
        total_requests: 4,
        successful_requests: 4,
        failed_requests: 0,
        avg_response_ms: 100,
        health: 'unknown',
      });
      await store.recordClientOutcome(client.id, { ok: false, durationMs: 600 });
      expect(await store.getClient(client.id)).toMatchObject({
        total_requests: 5,
        failed_requests: 1,
        avg_response_ms: 200,
        // 4 ok then 1 failure: the weighted rate is ≈ 0.77.
        health: 'degraded',
      });
      for (let i = 0; i < 30; i++) await store.recordClientOutcome(client.id, { ok: true, durationMs: 200 });
      expect((await store.getClient(client.id))?.health).toBe('healthy');
      for (let i = 0; i < 15; i++) await store.recordClientOutcome(client.id, { ok: false, durationMs: 200 });
      const sick = await store.getClient(client.id);
      expect(sick).toMatchObject({ total_requests: 50, successful_requests: 34, failed_requests: 16 });
      expect(sick?.health).toBe('unhealthy');
      await store.recordClientOutcome('cl_ghost', { ok: true, durationMs: 1 });
      expect(await store.getClient('cl_ghost')).toBeUndefined();
      expect((await store.listClients()).find((c) => c.id === client.id)).toEqual(sick);
    });
  });

  describe('API keys', () => {
    test('create returns the record with defaults; get, list and find agree', async () => {
      const { input } = newKey('ci');
      const created = await store.createApiKey(input);
      expect(created).toEqual({
        id: expect.stringMatching(/^key_/),
        name: 'ci',
        preview: input.preview,
        scopes: ['chat', 'models'],
        allowed_models: null,
        expires_at: null,
        limits: {
          requests_per_minute: null,
          requests_per_day: null,
          max_concurrency: null,
          tokens_per_day: null,
        },
        created_at: expect.any(String),
        last_used_at: null,
        revoked: false,
      });
      expect(await store.getApiKey(created.id)).toEqual(created);
      expect(await store.findApiKeyByHash(input.keyHash)).toEqual(created);
      expect(await store.findApiKeyByHash(hashSecret('sk-ar-nope'))).toBeUndefined();
      expect(await store.getApiKey('key_nope')).toBeUndefined();
      const full = await store.createApiKey(
        newKey('ci', {
          scopes: ['admin'],
          allowed_models: ['gpt-5'],
          expires_at: '2031-01-01T00:00:00.000Z',
          limits: { tokens_per_day: 5000, max_concurrency: 3 },
        }).input,
      );
      expect(full).toMatchObject({
        name: 'ci',
        scopes: ['admin'],
        allowed_models: ['gpt-5'],
        expires_at: '2031-01-01T00:00:00.000Z',
        limits: {
          requests_per_minute: null,
          requests_per_day: null,
          max_concurrency: 3,
          tokens_per_day: 5000,
        },
      });
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual([created.id, full.id]);
    });

    test('update has PATCH semantics; touch sets last_used_at', async () => {
      const created = await store.createApiKey(
        newKey('k', { allowed_models: ['a'], limits: { requests_per_day: 5, requests_per_minute: 1 } }).input,
      );
      const patched = await store.updateApiKey(created.id, {
        name: 'renamed',
        allowed_models: null,
        expires_at: '2032-05-05T00:00:00.000Z',
        limits: { requests_per_minute: null, tokens_per_day: 10 },
      });
      expect(patched).toEqual({
        ...created,
        name: 'renamed',
        allowed_models: null,
        expires_at: '2032-05-05T00:00:00.000Z',
        limits: { requests_per_minute: null, requests_per_day: 5, max_concurrency: null, tokens_per_day: 10 },
      });
      const cleared = await store.updateApiKey(created.id, { expires_at: null, scopes: ['images'] });
      expect(cleared).toMatchObject({ expires_at: null, scopes: ['images'], name: 'renamed' });
      expect(await store.updateApiKey('key_nope', { name: 'x' })).toBeUndefined();
      const at = new Date('2030-06-01T00:00:00.000Z');
      await store.touchApiKey(created.id, at);
      expect((await store.getApiKey(created.id))?.last_used_at).toBe(at.toISOString());
      await store.touchApiKey('key_ghost', at);
      expect(await store.getApiKey('key_ghost')).toBeUndefined();
    });

    test('revoke: the key stops being found, stays readable, cannot change', async () => {
      const { input } = newKey('k');
      const created = await store.createApiKey(input);
      const other = await store.createApiKey(newKey('other').input);
      expect(await store.revokeApiKey(created.id)).toBe(true);
      expect(await store.revokeApiKey(created.id)).toBe(false);
      expect(await store.revokeApiKey('key_nope')).toBe(false);
      expect(await store.findApiKeyByHash(input.keyHash)).toBeUndefined();
      expect(await store.getApiKey(created.id)).toEqual({ ...created, revoked: true });
      expect(await store.updateApiKey(created.id, { name: 'x' })).toBeUndefined();
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual([other.id]);
      expect((await store.listApiKeys({ includeRevoked: true })).map((k) => k.id)).toEqual([
        created.id,
        other.id,
      ]);
    });

    test('a regenerated key keeps its old secret through the grace only', async () => {
      const { input } = newKey('k');
      const created = await store.createApiKey(input);
      const fresh = generateSecret('apiKey');
      const again = await store.regenerateApiKey(
        created.id,
        hashSecret(fresh),
        secretPreview(fresh),
        Date.now() + 60_000,
      );
      expect(again).toEqual({ ...created, preview: secretPreview(fresh) });
      expect(await store.findApiKeyByHash(input.keyHash)).toEqual(again);
      expect(await store.findApiKeyByHash(hashSecret(fresh))).toEqual(again);
      // Regenerated again with no grace: the first secret is forgotten, the second retired now.
      const third = generateSecret('apiKey');
      await store.regenerateApiKey(created.id, hashSecret(third), secretPreview(third), Date.now());
      expect(await store.findApiKeyByHash(input.keyHash)).toBeUndefined();
      expect(await store.findApiKeyByHash(hashSecret(fresh))).toBeUndefined();
      expect((await store.findApiKeyByHash(hashSecret(third)))?.id).toBe(created.id);
      // Revoking ends a grace too; a revoked or unknown key cannot be regenerated.
      const fourth = generateSecret('apiKey');
      await store.regenerateApiKey(created.id, hashSecret(fourth), 'p', Date.now() + 60_000);
      expect(await store.revokeApiKey(created.id)).toBe(true);
      expect(await store.findApiKeyByHash(hashSecret(third))).toBeUndefined();
      expect(await store.findApiKeyByHash(hashSecret(fourth))).toBeUndefined();
      expect(await store.regenerateApiKey(created.id, hashSecret('x'), 'x', Date.now())).toBeUndefined();
      expect(await store.regenerateApiKey('key_nope', hashSecret('y'), 'y', Date.now())).toBeUndefined();
    });

    test('expired keys are still found: the store does not judge expiry, auth does', async () => {
      const { input } = newKey('old', { expires_at: '2001-01-01T00:00:00.000Z' });
      const created = await store.createApiKey(input);
      expect(await store.findApiKeyByHash(input.keyHash)).toEqual(created);
    });

    test('key names need not be unique', async () => {
      await store.createApiKey(newKey('same').input);
      await store.createApiKey(newKey('same').input);
      expect(await store.listApiKeys()).toHaveLength(2);
    });
  });

  test('settings: get, set, overwrite; set-if-absent keeps the first value', async () => {
    expect(await store.getSetting('x')).toBeUndefined();
    await store.setSetting('x', '1');
    await store.setSetting('x', '2');
    expect(await store.getSetting('x')).toBe('2');
    const racing = await Promise.all(['a', 'b', 'c'].map((v) => store.setSettingIfAbsent('first', v)));
    expect(new Set(racing).size).toBe(1);
    expect(await store.getSetting('first')).toBe(racing[0]);
    expect(await store.setSettingIfAbsent('x', '3')).toBe('2');
  });

  test('everything survives close and reopen; close is idempotent', async () => {
    const { input: ci } = newClient('durable', { rate_limit: { max_concurrency: 4 }, metadata: { a: [1] } });
    const client = await store.createClient(ci);
    await store.touchClient(client.id, new Date('2030-01-01T00:00:00.000Z'));
    await store.recordClientOutcome(client.id, { ok: true, durationMs: 42 });
    const { input: ki } = newKey('durable', { allowed_models: ['m'], limits: { requests_per_day: 9 } });
    const key = await store.createApiKey(ki);
    const revoked = await store.createApiKey(newKey('revoked').input);
    await store.revokeApiKey(revoked.id);
    await store.setSetting('admin_token_hash', 'abc');
    const before = {
      clients: await store.listClients(),
      keys: await store.listApiKeys({ includeRevoked: true }),
    };
    expect(before.clients[0]).toMatchObject({ total_requests: 1, status: 'active' });

    await store.close();
    await store.close();
    store = await backend.open();
    expect(await store.listClients()).toEqual(before.clients);
    expect(await store.listApiKeys({ includeRevoked: true })).toEqual(before.keys);
    expect((await store.findClientByTokenHash(ci.tokenHash))?.id).toBe(client.id);
    expect((await store.findApiKeyByHash(ki.keyHash))?.id).toBe(key.id);
    expect(await store.getSetting('admin_token_hash')).toBe('abc');
  });

  test('outcomes recorded just before close are written', async () => {
    const client = await store.createClient(newClient('a').input);
    await store.recordClientOutcome(client.id, { ok: false, durationMs: 10 });
    await reopen();
    expect(await store.getClient(client.id)).toMatchObject({ total_requests: 1, failed_requests: 1 });
  });

  test('secrets are held only as hashes: no token or key is anywhere at rest', async () => {
    const c = newClient('secretive');
    const client = await store.createClient(c.input);
    const rotated = generateSecret('clientToken');
    await store.rotateClientToken(client.id, hashSecret(rotated), secretPreview(rotated));
    const k = newKey('secretive');
    await store.createApiKey(k.input);
    await reopen();
    const raw = await backend.atRest();
    expect(raw).toContain(hashSecret(rotated));
    expect(raw).toContain(k.input.keyHash);
    for (const secret of [c.token, rotated, k.key]) {
      // The preview keeps the first 10 characters on purpose; nothing past it may be stored.
      expect(raw).not.toContain(secret.slice(10));
    }
  });

  test('parallel creates: distinct names all succeed, one name exactly once', async () => {
    const distinct = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.createClient(newClient(`bridge-${i}`).input)),
    );
    expect(new Set(distinct.map((c) => c.id)).size).toBe(20);
    const racing = await Promise.allSettled(
      ['race', 'RACE', 'Race', 'rAcE', 'race', 'racE', 'RAce', 'raCE'].map((n) =>
        store.createClient(newClient(n).input),
      ),
    );
    const won = racing.filter((r) => r.status === 'fulfilled');
    const lost = racing.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateNameError);
    expect(await store.listClients()).toHaveLength(21);
  });

  if (kind === 'redis') {
    test('every key it writes starts with the prefix', async () => {
      const { prefix, redis } = backend as ReturnType<typeof redisBackend>;
      const client = await store.createClient(newClient('p').input);
      await store.touchClient(client.id, new Date());
      await store.recordClientOutcome(client.id, { ok: true, durationMs: 1 });
      const key = await store.createApiKey(newKey('p').input);
      await store.touchApiKey(key.id, new Date());
      await store.setSetting('s', 'v');
      await store.listClients();
      // Keys named after our records, wherever they were written, must all carry the prefix.
      for (const id of [client.id, key.id]) {
        const named = await keysUnder(redis, `*${id}`);
        expect(named.length).toBeGreaterThan(0);
        for (const name of named) expect(name.startsWith(prefix)).toBe(true);
      }
      for (const fixed of [
        'clients',
        'keys',
        'settings',
        'idx:client_token',
        'idx:client_name',
        'idx:key_hash',
      ]) {
        expect(await redis.exists(`${prefix}${fixed}`)).toBe(1);
        expect(await redis.exists(fixed)).toBe(0);
      }
    });
  }
});

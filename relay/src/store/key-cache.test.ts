import { describe, expect, it } from 'vitest';
import { withKeyCache } from './key-cache.js';
import { hashSecret } from './secrets.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

type FindKey = Store['findApiKeyByHash'];

/** An in-memory store whose key lookups go through `find` (handed the real lookup). */
function storeWithLookup(find: (real: FindKey, hash: string) => ReturnType<FindKey>): Store {
  return new Proxy(openSqliteStore(':memory:'), {
    get(target, name) {
      if (name === 'findApiKeyByHash') return (hash: string) => find((h) => target.findApiKeyByHash(h), hash);
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The key `s` (looked up as hashSecret('s')). */
function createKey(store: Store) {
  return store.createApiKey({ name: 'k', scopes: ['chat'], keyHash: hashSecret('s'), preview: 's…' });
}

describe('key cache', () => {
  it('serves repeated lookups from memory, drops revoked keys at once, expires after the ttl', async () => {
    let now = 0;
    let lookups = 0;
    const counting = storeWithLookup((real, hash) => {
      lookups++;
      return real(hash);
    });
    const { store } = withKeyCache(counting, { ttlMs: 1000, maxEntries: 100, now: () => now });
    const key = await createKey(store);
    expect((await store.findApiKeyByHash(hashSecret('s')))?.id).toBe(key.id);
    expect((await store.findApiKeyByHash(hashSecret('s')))?.id).toBe(key.id);
    expect(lookups).toBe(1);
    now = 1500;
    await store.findApiKeyByHash(hashSecret('s'));
    expect(lookups).toBe(2);
    expect(await store.revokeApiKey(key.id)).toBe(true);
    expect(await store.findApiKeyByHash(hashSecret('s'))).toBeUndefined();
    // Misses are not cached: the next lookup asks the store again.
    await store.findApiKeyByHash(hashSecret('s'));
    expect(lookups).toBe(4);
    await store.close();
  });

  it('serves a recently seen key from memory while the store fails', async () => {
    let now = 0;
    let failing = false;
    const flaky = storeWithLookup((real, hash) =>
      failing ? Promise.reject(new Error('redis down')) : real(hash),
    );
    const { store } = withKeyCache(flaky, { ttlMs: 1000, staleMs: 60_000, now: () => now });
    const key = await createKey(store);
    await store.findApiKeyByHash(hashSecret('s'));
    failing = true;
    now = 30_000;
    expect((await store.findApiKeyByHash(hashSecret('s')))?.id).toBe(key.id);
    await expect(store.findApiKeyByHash(hashSecret('unknown'))).rejects.toThrow('redis down');
    now = 90_000;
    await expect(store.findApiKeyByHash(hashSecret('s'))).rejects.toThrow('redis down');
    await store.close();
  });
});

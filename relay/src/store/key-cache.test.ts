import { describe, expect, it } from 'vitest';
import { withKeyCache } from './key-cache.js';
import { hashSecret } from './secrets.js';
import { openSqliteStore } from './sqlite-store.js';

describe('key cache', () => {
  it('serves repeated lookups from memory, drops revoked keys at once, expires after the ttl', async () => {
    let now = 0;
    const inner = openSqliteStore(':memory:');
    let lookups = 0;
    const counting = new Proxy(inner, {
      get(target, name) {
        if (name === 'findApiKeyByHash') {
          return (hash: string) => {
            lookups++;
            return target.findApiKeyByHash(hash);
          };
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = withKeyCache(counting, 1000, 100, () => now);
    const key = await store.createApiKey({
      name: 'k',
      scopes: ['chat'],
      keyHash: hashSecret('s'),
      preview: 's…',
    });
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
});

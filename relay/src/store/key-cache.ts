/**
 * A short-lived cache in front of `findApiKeyByHash`, the one store call on every consumer
 * request (an SQLite query, or two Redis round trips). Changes made through this relay clear
 * it at once; changes made on another relay show within `ttlMs` (default 1 s). Misses are never
 * cached, so a new key works at once and random keys cannot fill it.
 */
import type { ApiKeyRecord, Store } from './store.js';

export function withKeyCache(store: Store, ttlMs = 1000, maxEntries = 10_000, now = Date.now): Store {
  const cache = new Map<string, { key: ApiKeyRecord; until: number }>();
  const clear = () => cache.clear();
  const overrides: Partial<Store> = {
    async findApiKeyByHash(keyHash) {
      const hit = cache.get(keyHash);
      if (hit && hit.until > now()) return hit.key;
      const key = await store.findApiKeyByHash(keyHash);
      if (key) {
        if (cache.size >= maxEntries) clear();
        cache.set(keyHash, { key, until: now() + ttlMs });
      } else {
        cache.delete(keyHash);
      }
      return key;
    },
    async updateApiKey(id, patch) {
      clear();
      return store.updateApiKey(id, patch);
    },
    async revokeApiKey(id) {
      clear();
      return store.revokeApiKey(id);
    },
  };
  // A proxy, not a spread: a store may keep its methods on a prototype.
  return new Proxy(store, {
    get(target, name, receiver) {
      const own = overrides[name as keyof Store];
      if (own) return own;
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

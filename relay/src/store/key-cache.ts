/**
 * A short-lived cache in front of `findApiKeyByHash`, the one store call on every consumer
 * request (an SQLite query, or two Redis round trips). Changes made through this relay clear it
 * at once (and `onChange` tells the cluster, whose relays clear theirs); changes seen by no
 * broadcast show within `ttlMs` (default 1 s). Misses are never cached, so a new key works at
 * once and random keys cannot fill it. When the store fails (Redis down), a key seen in the last
 * `staleMs` (default 10 min) keeps working: the relay goes on serving its own agents.
 */
import type { ApiKeyRecord, Store } from './store.js';

export type KeyCacheOptions = {
  ttlMs?: number;
  staleMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** Called after a key changed through this relay. */
  onChange?: () => void;
};

export type KeyCache = { store: Store; clear(): void };

export function withKeyCache(store: Store, options: KeyCacheOptions = {}): KeyCache {
  const ttlMs = options.ttlMs ?? 1000;
  const staleMs = options.staleMs ?? 600_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { key: ApiKeyRecord; at: number }>();
  /** When the store last failed: for a second after, known keys are served without asking it. */
  let failedAt = Number.NEGATIVE_INFINITY;
  const clear = () => cache.clear();
  const changed = () => {
    clear();
    options.onChange?.();
  };
  const overrides: Partial<Store> = {
    async findApiKeyByHash(keyHash) {
      const hit = cache.get(keyHash);
      if (hit && now() - hit.at < ttlMs) return hit.key;
      const staleOk = hit !== undefined && now() - hit.at < staleMs;
      // A store that just failed would make every request wait for its timeout: don't ask yet.
      if (staleOk && now() - failedAt < 1000) return hit.key;
      let key: ApiKeyRecord | undefined;
      try {
        key = await store.findApiKeyByHash(keyHash);
      } catch (error) {
        failedAt = now();
        if (staleOk) return hit.key;
        throw error;
      }
      if (key) {
        if (cache.size >= maxEntries) clear();
        cache.set(keyHash, { key, at: now() });
      } else {
        cache.delete(keyHash);
      }
      return key;
    },
    async updateApiKey(id, patch) {
      const result = await store.updateApiKey(id, patch);
      changed();
      return result;
    },
    async regenerateApiKey(id, keyHash, preview, graceUntil) {
      const result = await store.regenerateApiKey(id, keyHash, preview, graceUntil);
      changed();
      return result;
    },
    async revokeApiKey(id) {
      const result = await store.revokeApiKey(id);
      changed();
      return result;
    },
  };
  // A proxy, not a spread: a store may keep its methods on a prototype.
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const own = overrides[name as keyof Store];
      if (own) return own;
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, clear };
}

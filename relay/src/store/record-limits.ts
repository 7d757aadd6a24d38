/**
 * The limits of a client or an API key as the Store hands them out: every known field present,
 * `null` meaning "no limit of this kind"; a patch merged in per field (absent = keep, null = clear).
 */
import type { ApiKeyLimits } from './api-key-records.js';
import type { ClientRateLimit } from './client-records.js';

const NO_CLIENT_LIMITS: ClientRateLimit = {
  requests_per_minute: null,
  requests_per_day: null,
  max_concurrency: null,
};
const NO_KEY_LIMITS: ApiKeyLimits = { ...NO_CLIENT_LIMITS, tokens_per_day: null };

/** Applies a per-field limits patch (absent = keep, null = clear) onto `base`, keeping only known fields. */
function mergeLimits<T extends Record<string, number | null>>(
  empty: T,
  base: Partial<T> | undefined,
  patch: Partial<T> | undefined,
): T {
  const out = { ...empty };
  for (const field of Object.keys(empty) as Array<keyof T>) {
    const next = patch?.[field] !== undefined ? patch[field] : base?.[field];
    out[field] = (next ?? null) as T[keyof T];
  }
  return out;
}

export const mergeClientLimits = (base?: Partial<ClientRateLimit>, patch?: Partial<ClientRateLimit>) =>
  mergeLimits(NO_CLIENT_LIMITS, base, patch);
export const mergeKeyLimits = (base?: Partial<ApiKeyLimits>, patch?: Partial<ApiKeyLimits>) =>
  mergeLimits(NO_KEY_LIMITS, base, patch);

/**
 * How long a replaced credential stays valid: the relay's CREDENTIAL_GRACE_SECONDS, or the admin
 * call's `?grace_seconds=` (0 retires the old one at once, e.g. after a leak). One parser for the
 * three calls that replace a credential: rotate-token, download, regenerate.
 */
import type { Context } from 'hono';
import { MAX_GRACE_SECONDS } from '../config/load-config.js';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';

/** The time (ms epoch) until which the replaced credential stays valid. */
export function graceUntil(c: Context<AppEnv>, deps: AppDeps, now = Date.now()): number {
  const raw = c.req.query('grace_seconds');
  if (raw === undefined) return now + deps.config.credentialGraceMs;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) > MAX_GRACE_SECONDS) {
    throw new RelayError(
      'invalid_request',
      `grace_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS} (seconds the old credential stays valid)`,
      { param: 'grace_seconds' },
    );
  }
  return now + Number(raw) * 1000;
}

/** The answer's word on the old credential: until when it works, or null when retired at once. */
export function previousValidUntil(until: number, now = Date.now()): string | null {
  return until > now ? new Date(until).toISOString() : null;
}

/**
 * Secrets: generated with a CSPRNG, shown once, stored only as SHA-256 hashes. Tokens carry
 * 238 bits of entropy, so a fast hash is the right tool (no password-stretching needed) and a
 * lookup by hash reveals nothing a timing attacker could use.
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { customAlphabet } from 'nanoid';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const secretBody = customAlphabet(alphabet, 40);
const idBody = customAlphabet(alphabet, 16);

/** Prefixes make a leaked secret recognisable (and greppable by secret scanners). */
export const SECRET_PREFIX = {
  apiKey: 'sk-ar-',
  clientToken: 'art_',
  adminToken: 'ara_',
  /** An alert webhook's HMAC key: kept (it must sign), shown once. */
  webhookSecret: 'arw_',
} as const;

export function generateSecret(kind: keyof typeof SECRET_PREFIX): string {
  return `${SECRET_PREFIX[kind]}${secretBody()}`;
}

/** Public ids: `cl_…` for clients, `key_…` for API keys. */
export function generateId(prefix: 'cl' | 'key' | 'req' | 'ses' | 'rly' | 'aud' | 'ach' | 'alr'): string {
  return `${prefix}_${idBody()}`;
}

/**
 * Hex SHA-256 of a secret, the only form in which secrets are stored. Once per consumer request
 * (the key lookup): the one-shot `crypto.hash` costs a third of a Hash object's create/update/digest.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The first characters of a secret, kept for display ("sk-ar-Ab3d…"). */
export function secretPreview(secret: string): string {
  return `${secret.slice(0, 10)}…`;
}

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Property-based tests of the secret helpers: the admin-token comparison (constant time, over
 * SHA-256 digests of equal length) never throws, whatever is presented or stored, and matches
 * exactly when the hashes agree; generated secrets never repeat and hash to 64 hex digits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../test-support/fuzz.js';
import { generateSecret, hashSecret, SECRET_PREFIX, secretMatches, secretPreview } from './secrets.js';

const numRuns = fuzzRuns();

describe('secrets (fuzz)', () => {
  it('secretMatches never throws and is true exactly for the stored hash of the presented secret', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 48 }),
        fc.string({ unit: 'binary', maxLength: 48 }),
        fc.oneof(
          fc.string({ maxLength: 70 }),
          fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { maxLength: 80 }).map((c) => c.join('')),
        ),
        (presented, other, junk) => {
          const stored = hashSecret(presented);
          expect(secretMatches(presented, stored)).toBe(true);
          expect(secretMatches(presented, stored.toUpperCase())).toBe(true);
          expect(secretMatches(other, stored)).toBe(other === presented);
          // A malformed stored value (wrong length, not hex) is a mismatch, not an exception.
          expect(secretMatches(presented, junk)).toBe(junk.toLowerCase() === stored);
        },
      ),
      { numRuns },
    );
  });

  it('generated secrets carry their prefix, never repeat, and their preview shows 10 characters', () => {
    const kinds = Object.keys(SECRET_PREFIX) as Array<keyof typeof SECRET_PREFIX>;
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.constantFrom(...kinds), (kind) => {
        const secret = generateSecret(kind);
        expect(secret.startsWith(SECRET_PREFIX[kind])).toBe(true);
        expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(seen.has(secret)).toBe(false);
        seen.add(secret);
        expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
        expect(secretPreview(secret)).toBe(`${secret.slice(0, 10)}…`);
      }),
      { numRuns },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { checkJsonLimits } from './json-limits.js';

const bytes = (s: string) => Buffer.from(s);

describe('json limits', () => {
  it('accepts ordinary chat bodies, brackets inside strings included', () => {
    expect(() =>
      checkJsonLimits(bytes('{"model":"x","messages":[{"role":"user","content":"[[[{{{\\"]]]"}]}'), 3),
    ).not.toThrow();
  });

  it('finds the end of strings past escaped quotes and backslash runs', () => {
    // Brackets after `\\"` are outside the string (the quote is not escaped); after `\"` inside it.
    expect(() => checkJsonLimits(bytes('["a\\\\"]'), 1)).not.toThrow();
    expect(() => checkJsonLimits(bytes('["a\\\\", [[]]]'), 2)).toThrow(/deeper than 2/);
    expect(() => checkJsonLimits(bytes('["a\\" [[[ \\\\\\" ]]]"]'), 1)).not.toThrow();
    expect(() => checkJsonLimits(bytes(`["${'x'.repeat(100_000)}", [[[]]]]`), 3)).toThrow(/deeper than 3/);
  });

  it('refuses nesting past the depth limit with a 400', () => {
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
    expect(() => checkJsonLimits(bytes(deep))).toThrow(RelayError);
    expect(() => checkJsonLimits(bytes(`${'['.repeat(64)}${']'.repeat(64)}`))).not.toThrow();
  });

  it('refuses an array with too many items', () => {
    expect(() => checkJsonLimits(bytes(`[${'1,'.repeat(20)}1]`), 64, 10)).toThrow(/more than 10 items/);
    expect(() => checkJsonLimits(bytes(`[${'1,'.repeat(8)}1]`), 64, 10)).not.toThrow();
  });

  it('agrees with a byte-at-a-time reference on arbitrary input (strings, escapes, brackets)', () => {
    const reference = (body: Uint8Array, maxDepth: number, maxItems: number): string => {
      let depth = 0;
      const items: number[] = [];
      let inString = false;
      for (let i = 0; i < body.length; i++) {
        const byte = body[i];
        if (inString) {
          if (byte === 0x5c) i++;
          else if (byte === 0x22) inString = false;
          continue;
        }
        if (byte === 0x22) inString = true;
        else if (byte === 0x7b || byte === 0x5b) {
          if (++depth > maxDepth) return 'depth';
          items.push(0);
        } else if (byte === 0x7d || byte === 0x5d) {
          depth--;
          items.pop();
        } else if (byte === 0x2c && items.length > 0 && ++items[items.length - 1]! >= maxItems)
          return 'items';
      }
      return 'ok';
    };
    const outcome = (body: Uint8Array, maxDepth: number, maxItems: number): string => {
      try {
        checkJsonLimits(body, maxDepth, maxItems);
        return 'ok';
      } catch (error) {
        return /deeper/.test((error as Error).message) ? 'depth' : 'items';
      }
    };
    const piece = fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', 'a', ' ', '\\"', '\\\\');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (pieces, d, n) => {
          const body = Buffer.from(pieces.join(''));
          expect(outcome(body, d, n)).toBe(reference(body, d, n));
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

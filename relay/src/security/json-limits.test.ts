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

  it('refuses nesting past the depth limit with a 400', () => {
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
    expect(() => checkJsonLimits(bytes(deep))).toThrow(RelayError);
    expect(() => checkJsonLimits(bytes(`${'['.repeat(64)}${']'.repeat(64)}`))).not.toThrow();
  });

  it('refuses an array with too many items', () => {
    expect(() => checkJsonLimits(bytes(`[${'1,'.repeat(20)}1]`), 64, 10)).toThrow(/more than 10 items/);
    expect(() => checkJsonLimits(bytes(`[${'1,'.repeat(8)}1]`), 64, 10)).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseJsonAs } from './json.js';

const point = z.strictObject({ x: z.number(), y: z.number() });

describe('parseJsonAs', () => {
  it('gives the checked value', () => {
    expect(parseJsonAs(point, '{"x":1,"y":2}')).toEqual({ x: 1, y: 2 });
  });

  it('gives undefined, never throws, for text that is not JSON or does not match', () => {
    for (const text of ['', '{', 'null', '{"x":1}', '{"x":1,"y":2,"z":3}', '\u0000', '{"x":1,"y":"2"}']) {
      expect(parseJsonAs(point, text)).toBeUndefined();
    }
  });

  it('survives deep nesting', () => {
    expect(parseJsonAs(point, `${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_OPEN_FRAME_BYTES } from '../version.js';
import { parseRelayFrame, relayFrame } from './codec.js';
import { fastOpen } from './open-fast.js';
import { openFrame } from './stream.js';

const numRuns = Math.max(10_000, Number(process.env.FUZZ_RUNS) || 0);

/** Values near every edge the schema draws, and of every JSON kind. */
const anyValue = fc.oneof(
  fc.constantFrom(0, 1, -1, 1.5, 0xffff_ffff, 0x1_0000_0000, MAX_OPEN_FRAME_BYTES, MAX_OPEN_FRAME_BYTES + 1),
  fc.constantFrom(
    '',
    '/',
    'x',
    'open',
    'GET',
    'POST',
    'get',
    '/'.repeat(2049),
    'm'.repeat(257),
    'm'.repeat(256),
  ),
  fc.constantFrom(true, false, null, [], {}, { a: 'b' }, ['/']),
  fc.jsonValue({ maxDepth: 2 }),
);

/** The common `open`: what a relay sends an agent that said `openHeaders: false`. */
const validOpen = fc.record(
  {
    type: fc.constant('open'),
    stream: fc.integer({ min: 1, max: 0xffff_ffff }),
    method: fc.constantFrom('GET', 'POST'),
    path: fc.string({ maxLength: 2047 }).map((s) => `/${s}`),
    body: fc.jsonValue({ maxDepth: 2 }),
    bodyBytes: fc.integer({ min: 1, max: MAX_OPEN_FRAME_BYTES }),
    model: fc.string({ maxLength: 256 }),
    rerouted: fc.constant(true),
  },
  { requiredKeys: ['type', 'stream', 'method', 'path'] },
);

/** A valid open with a field replaced, removed or added (headers and unknown keys included). */
const mutatedOpen = fc
  .tuple(
    validOpen,
    fc.constantFrom(
      'type',
      'stream',
      'method',
      'path',
      'headers',
      'body',
      'bodyBytes',
      'model',
      'rerouted',
      'x',
      '__proto__',
    ),
    fc.option(anyValue, { nil: undefined }),
  )
  .map(([frame, key, value]) => {
    const copy: Record<string, unknown> = { ...frame };
    if (value === undefined) delete copy[key];
    else Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    return JSON.parse(JSON.stringify(copy)) as unknown;
  });

describe('fastOpen', () => {
  it('takes every common open itself, giving what zod gives', () => {
    fc.assert(
      fc.property(validOpen, (frame) => {
        const raw = JSON.parse(JSON.stringify(frame)) as unknown;
        const fast = fastOpen(raw);
        expect(fast).toBeDefined();
        expect(fast).toStrictEqual(openFrame.parse(raw));
      }),
      { numRuns },
    );
  });

  it('on mutated frames accepts only what zod accepts, with the same output; the rest goes to zod', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedOpen, anyValue), (raw) => {
        const fast = fastOpen(raw);
        const zod = openFrame.safeParse(raw);
        if (fast !== undefined) expect(fast).toStrictEqual(zod.success ? zod.data : 'rejected by zod');
        // Through the codec: exactly the union's verdict and output, fast path or not.
        const parsed = parseRelayFrame(JSON.stringify(raw) ?? 'null');
        const union = relayFrame.safeParse(raw);
        expect(parsed.ok).toBe(union.success);
        if (parsed.ok) expect(parsed.frame).toStrictEqual(union.data);
      }),
      { numRuns },
    );
  });

  it('leaves open frames with headers to zod', () => {
    expect(fastOpen({ type: 'open', stream: 1, method: 'GET', path: '/', headers: {} })).toBeUndefined();
    expect(
      parseRelayFrame('{"type":"open","stream":1,"method":"GET","path":"/","headers":{"a":"b"}}'),
    ).toEqual({
      ok: true,
      frame: { type: 'open', stream: 1, method: 'GET', path: '/', headers: { a: 'b' } },
    });
  });
});

/**
 * Property-based tests of the chat request validator: whatever JSON a consumer sends, the only
 * thing that may come out is the validated request or a RelayError 400 naming a param. At least
 * 10 000 generated or mutated bodies per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../../errors/relay-error.js';
import { fuzzRuns, holdsFor } from '../../test-support/fuzz.js';
import { type ChatRequest, chatRequestSchema, plainlyValid, validateChatRequest } from './chat-schema.js';

const numRuns = fuzzRuns();

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
// `__proto__` is left out here: zod drops it (see the prototype test below), which is the safe choice.
const extra = fc.dictionary(
  fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__'),
  fc.jsonValue({ maxDepth: 1 }),
  { maxKeys: 2 },
);
const content = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constant(null),
  fc.array(fc.record({ type: fc.constantFrom('text', 'image_url'), text: fc.string({ maxLength: 16 }) }), {
    maxLength: 2,
  }),
);
const message = fc
  .record({ role: fc.constantFrom(...ROLES), content }, { requiredKeys: ['role'] })
  .chain((m) => extra.map((e) => ({ ...e, ...m })));
const validRequest = fc
  .record(
    {
      model: fc.oneof(
        fc.constantFrom('gpt-5', 'claude-opus-4'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      ),
      messages: fc.array(message, { minLength: 1, maxLength: 3 }),
      stream: fc.boolean(),
      stream_options: fc.option(fc.record({ include_usage: fc.boolean() }, { requiredKeys: [] })),
      models: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['model', 'messages'] },
  )
  .chain((r) => extra.map((e) => ({ ...e, ...r })));

/** Runs the validator; returns the request, or checks that what it threw is a 400 RelayError. */
function validate(body: unknown): ChatRequest | undefined {
  try {
    return validateChatRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    const relayError = error as RelayError;
    expect(relayError.status).toBe(400);
    expect(relayError.code).toBe('invalid_request');
    expect(relayError.param === null || typeof relayError.param === 'string').toBe(true);
    // The error body is what the consumer gets: it must serialise.
    expect(() => JSON.stringify(relayError.body())).not.toThrow();
    return undefined;
  }
}

/** Replaces the value at a random path of `value` (objects and arrays) with `replacement`. */
function replaceAt(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const [step, ...rest] = path as [number, ...number[]];
  if (Array.isArray(value)) {
    if (value.length === 0) return replacement;
    const copy = [...value];
    const at = step % copy.length;
    copy[at] = replaceAt(copy[at], rest, replacement);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[step % keys.length]!;
  return { ...value, [key]: replaceAt((value as Record<string, unknown>)[key], rest, replacement) };
}

describe('validateChatRequest (fuzz)', () => {
  it('throws nothing but a RelayError 400 on arbitrary JSON values', () => {
    holdsFor(fc.jsonValue({ maxDepth: 4 }), validate, numRuns);
  });

  it('throws nothing but a RelayError 400 on arbitrary JS values (prototype tricks included)', () => {
    const values = fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true });
    holdsFor(values, validate, numRuns);
  });

  it('accepts every valid request and keeps its fields (unknown ones pass through)', () => {
    holdsFor(
      validRequest,
      (body) => {
        const wire = JSON.parse(JSON.stringify(body));
        const result = validate(wire);
        expect(result).toEqual(wire);
      },
      numRuns,
    );
  });

  it('on mutated valid requests: a 400 naming a param, or a request whose checked fields hold', () => {
    fc.assert(
      fc.property(
        validRequest,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.jsonValue({ maxDepth: 2 }),
        (body, path, replacement) => {
          const result = validate(JSON.parse(JSON.stringify(replaceAt(body, path, replacement))));
          if (!result) return;
          expect(typeof result.model).toBe('string');
          expect(result.model.length).toBeGreaterThanOrEqual(1);
          expect(result.model.length).toBeLessThanOrEqual(256);
          expect(result.messages.length).toBeGreaterThanOrEqual(1);
          for (const m of result.messages) expect(ROLES).toContain(m.role);
          expect(result.stream === undefined || typeof result.stream === 'boolean').toBe(true);
        },
      ),
      { numRuns },
    );
  });

  it('plainlyValid: every valid request passes as sent, and only what the schema accepts unchanged', () => {
    const mutated = fc
      .tuple(validRequest, fc.array(fc.nat(), { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
      .map(([body, path, replacement]) => replaceAt(body, path, replacement));
    fc.assert(
      fc.property(
        fc.oneof(validRequest, mutated, fc.jsonValue({ maxDepth: 4 })),
        fc.boolean(),
        (body, proto) => {
          const json = JSON.stringify(body);
          const wire: unknown = JSON.parse(
            proto && json?.startsWith('{"') ? `{"__proto__":{"stream":1},${json.slice(1)}` : (json ?? 'null'),
          );
          const parsed = chatRequestSchema.safeParse(wire);
          if (plainlyValid(wire)) {
            expect(parsed.success).toBe(true);
            expect(parsed.data).toEqual(wire);
          } else if (parsed.success && !proto) {
            // Zod accepts more shapes than the quick check (non-plain objects); JSON gives none of them.
            expect(JSON.stringify(parsed.data)).not.toBe(JSON.stringify(wire));
          }
        },
      ),
      { numRuns },
    );
  });

  it('a "__proto__" key in a body changes neither the result\'s prototype nor Object.prototype', () => {
    fc.assert(
      fc.property(validRequest, fc.jsonValue({ maxDepth: 2 }), (body, value) => {
        const json = JSON.stringify(body);
        const wire = JSON.parse(
          `{"__proto__":{"stream":true,"polluted":${JSON.stringify(value)}},${json.slice(1)}`,
        );
        const result = validate(wire);
        expect(result).toBeDefined();
        expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
        expect(result!.stream).toBe((body as { stream?: boolean }).stream);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: Math.ceil(numRuns / 10) },
    );
  });
});

/**
 * Property-based tests of the consumer body path: `readBody` (size limit, however the bytes are
 * chunked or declared) and `parseJson` (arbitrary bytes give a value or a RelayError 400, never
 * anything else). At least 10 000 generated inputs per property.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { fuzzRuns, holdsFor } from '../test-support/fuzz.js';
import { parseJson, readBody } from './read-body.js';

const numRuns = fuzzRuns();

/** A stand-in for the Node request: a stream with headers, fed `chunks` then ended (or failed). */
function fakeRequest(
  chunks: Uint8Array[],
  contentLength: string | undefined,
  fail: boolean,
): IncomingMessage {
  const req = new PassThrough() as PassThrough & { headers: Record<string, string> };
  req.headers = contentLength === undefined ? {} : { 'content-length': contentLength };
  // Like IncomingMessage, which emits 'error' only to listeners: readBody stops listening once
  // it has answered (413), and a PassThrough would otherwise throw the late error.
  req.on('error', () => {});
  queueMicrotask(() => {
    for (const chunk of chunks) req.write(chunk);
    if (fail) req.destroy(new Error('connection reset'));
    else req.end();
  });
  return req as unknown as IncomingMessage;
}

const declared = fc.option(
  fc.oneof(
    fc.nat(4096).map(String),
    fc.constantFrom('', 'abc', '-1', '1e3', ' 12 ', '0x10', 'Infinity', 'NaN', '99999999999999999999'),
    fc.string({ maxLength: 8 }),
  ),
  { nil: undefined },
);

describe('readBody (fuzz)', () => {
  it('returns exactly the bytes sent within the limit, and a 413 beyond it, however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.nat(300),
        declared,
        async (chunks, limit, contentLength) => {
          const sent = Buffer.concat(chunks);
          const claimed = Number(contentLength);
          const outcome = await readBody(fakeRequest(chunks, contentLength, false), limit).then(
            (body) => ({ body }),
            (error: unknown) => ({ error }),
          );
          if (sent.length > limit || (Number.isFinite(claimed) && claimed > limit)) {
            expect('error' in outcome).toBe(true);
            const error = (outcome as { error: unknown }).error;
            expect(error).toBeInstanceOf(RelayError);
            expect((error as RelayError).status).toBe(413);
          } else {
            expect('body' in outcome && outcome.body.equals(sent)).toBe(true);
          }
        },
      ),
      { numRuns },
    );
  });

  it('a body that fails mid-way is a 400 (or a 413 when already too large), never a raw error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 4 }),
        fc.nat(128),
        async (chunks, limit) => {
          const error = await readBody(fakeRequest(chunks, undefined, true), limit).then(
            () => undefined,
            (e: unknown) => e,
          );
          // A stream destroyed with an error may still have delivered everything: both outcomes are fine.
          if (error === undefined) return;
          expect(error).toBeInstanceOf(RelayError);
          expect([400, 413]).toContain((error as RelayError).status);
        },
      ),
      { numRuns: Math.ceil(numRuns / 4) },
    );
  });
});

/** Runs parseJson; returns the value, or checks that what it threw is a RelayError 400. */
function parse(bytes: Uint8Array): { value: unknown } | { error: RelayError } {
  try {
    return { value: parseJson(Buffer.from(bytes)) };
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).status).toBe(400);
    expect(['invalid_json', 'invalid_request']).toContain((error as RelayError).code);
    return { error: error as RelayError };
  }
}

describe('parseJson (fuzz)', () => {
  it('gives a value or a RelayError 400 on arbitrary bytes', () => {
    holdsFor(fc.uint8Array({ maxLength: 128 }), parse, numRuns);
  });

  it('gives a value or a RelayError 400 on mutated JSON', () => {
    fc.assert(
      fc.property(
        fc.json({ maxDepth: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
        (json, flips) => {
          const bytes = Buffer.from(json);
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
          parse(bytes);
        },
      ),
      { numRuns },
    );
  });

  it('parses ordinary JSON exactly as JSON.parse does', () => {
    holdsFor(
      fc.json({ maxDepth: 8 }),
      (json) => {
        const outcome = parse(Buffer.from(json));
        expect(outcome).toEqual({ value: JSON.parse(json) });
      },
      numRuns,
    );
  });

  it('refuses absurd nesting with a 400 instead of exhausting the stack', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
        const close = open === '[' ? ']' : '}';
        const outcome = parse(Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`));
        expect('error' in outcome).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * Property-based tests of the cluster envelope codec (relay ⇄ relay messages over Redis pub/sub):
 * `decode` never throws, drops what is malformed, and valid messages round-trip. At least 10 000
 * generated or mutated inputs per property.
 */
import { streamErrorCode } from '@arena-relay/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../test-support/fuzz.js';
import {
  type ControlMessage,
  decode,
  decodeBatch,
  encodeBatch,
  encodeControl,
  encodeData,
  encodeOpen,
  Kind,
  type OpenMessage,
} from './envelope.js';

const numRuns = fuzzRuns();

const ref = fc.integer({ min: 1, max: 0xffff_ffff });
const id = fc.string({ minLength: 1, maxLength: 32 });
const text = (max: number) => fc.string({ unit: 'binary', maxLength: Math.floor(max / 2) });
// zod drops a `__proto__` key (the safe choice), so a round trip would not give it back.
const headers = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 16 }).filter((k) => k !== '__proto__'),
  fc.string({ maxLength: 32 }),
  { maxKeys: 3 },
);

const control: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.record({ kind: fc.constant(Kind.ACK), body: fc.record({ ref }) }),
  fc.record({
    kind: fc.constant(Kind.HEAD),
    body: fc.record({ ref, status: fc.integer({ min: 200, max: 599 }), headers }),
  }),
  fc.record({
    kind: fc.constant(Kind.END),
    body: fc.record({ ref }),
  }),
  fc.record({
    kind: fc.constant(Kind.ERROR),
    body: fc.record(
      {
        ref,
        code: fc.constantFrom(...streamErrorCode.options, 'agent_gone' as const),
        message: text(256),
        status: fc.integer({ min: 100, max: 599 }),
      },
      { requiredKeys: ['ref', 'code', 'message'] },
    ),
  }),
  fc.record({ kind: fc.constant(Kind.CANCEL), body: fc.record({ from: id, ref, reason: text(512) }) }),
  fc.record({
    kind: fc.constant(Kind.CREDIT),
    body: fc.record({ from: id, ref, bytes: fc.integer({ min: 1, max: 0x7fff_ffff }) }),
  }),
) as fc.Arbitrary<ControlMessage>;

const open: fc.Arbitrary<OpenMessage> = fc.record({
  from: id,
  ref,
  session: id,
  request: fc.record(
    {
      method: fc.constantFrom('GET' as const, 'POST' as const),
      path: text(64).map((p) => `/${p}`),
      headers,
      model: text(256),
    },
    { requiredKeys: ['method', 'path', 'headers'] },
  ),
});
/** Request bodies: JSON with any code point (as UTF-8), or any bytes at all. */
const bodyBytes = fc.option(
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }).map((t) => Buffer.from(t)),
    fc.uint8Array({ minLength: 1, maxLength: 128 }).map((b) => Buffer.from(b)),
  ),
  { nil: undefined },
);

describe('cluster envelope decode (fuzz)', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        const decoded = decode(Buffer.from(bytes));
        if (decoded === undefined) return;
        if (decoded.kind === Kind.DATA) {
          expect(bytes.length).toBeGreaterThanOrEqual(5);
          expect(decoded.payload.equals(Buffer.from(bytes).subarray(5))).toBe(true);
        } else {
          expect(typeof decoded.body).toBe('object');
        }
      }),
      { numRuns },
    );
  });

  it('never throws on a known kind followed by arbitrary text or JSON', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 96 }), fc.json({ maxDepth: 3 })),
        (kind, body) => {
          decode(Buffer.concat([Buffer.from([kind]), Buffer.from(body)]));
        },
      ),
      { numRuns },
    );
  });

  it('round-trips valid control messages and data', () => {
    fc.assert(
      fc.property(control, (message) => {
        const wire = encodeControl(message.kind, message.body as never);
        expect(decode(wire)).toEqual({ kind: message.kind, body: JSON.parse(JSON.stringify(message.body)) });
      }),
      { numRuns },
    );
    fc.assert(
      fc.property(ref, fc.uint8Array({ maxLength: 128 }), (streamRef, payload) => {
        const decoded = decode(encodeData(streamRef, Buffer.from(payload)));
        expect(decoded).toMatchObject({ kind: Kind.DATA, ref: streamRef });
        expect((decoded as { payload: Buffer }).payload.equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('OPEN carries the body bytes exactly, after its JSON head', () => {
    fc.assert(
      fc.property(open, bodyBytes, (head, bytes) => {
        const decoded = decode(encodeOpen(head, bytes));
        expect(decoded).toBeDefined();
        expect(decoded!.kind).toBe(Kind.OPEN);
        const { body, bytes: got } = decoded as { body: OpenMessage; bytes: Buffer | undefined };
        expect(body).toEqual(JSON.parse(JSON.stringify(head)));
        if (bytes === undefined) expect(got).toBeUndefined();
        else expect(got!.equals(bytes)).toBe(true);
      }),
      { numRuns },
    );
  });

  it('never throws on mutated or cut OPENs, and never reads a body past the message', () => {
    fc.assert(
      fc.property(
        open,
        bodyBytes,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (head, bytes, flips, cut) => {
          const wire = Buffer.from(encodeOpen(head, bytes));
          for (const [at, value] of flips) wire[at % wire.length] = value;
          for (const message of [wire, wire.subarray(0, cut % (wire.length + 1))]) {
            const decoded = decode(message);
            if (decoded?.kind === Kind.OPEN && decoded.bytes) {
              expect(decoded.bytes.length).toBeLessThan(message.length);
            }
          }
        },
      ),
      { numRuns },
    );
  });

  it('never throws on mutated valid messages', () => {
    fc.assert(
      fc.property(
        control,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (message, flips, cut) => {
          const wire = Buffer.from(encodeControl(message.kind, message.body as never));
          for (const [at, value] of flips) wire[at % wire.length] = value;
          decode(wire);
          decode(wire.subarray(0, cut % (wire.length + 1)));
        },
      ),
      { numRuns },
    );
  });

  it('a BATCH never throws when cut or mutated, and what it yields lies within it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            control.map((m) => encodeControl(m.kind, m.body as never)),
            fc.uint8Array({ maxLength: 24 }).map((p) => encodeData(7, Buffer.from(p))),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
        fc.nat(),
        (messages, flips, cut) => {
          const wire = encodeBatch(
            messages,
            messages.reduce((n, m) => n + m.length, 0),
          );
          if (flips.length === 0) expect(decodeBatch(wire)).toHaveLength(messages.length);
          for (const [at, value] of flips) wire[at % wire.length] = value;
          for (const message of [wire, wire.subarray(0, cut % (wire.length + 1))]) {
            const members = decodeBatch(message);
            for (const m of members ?? []) {
              if (m.kind === Kind.DATA) expect(m.payload.length).toBeLessThan(message.length);
            }
          }
        },
      ),
      { numRuns },
    );
  });

  it('drops a HEAD whose status is not a final HTTP status (200..599)', () => {
    // The origin relay writes this status to its consumer: res.writeHead throws on < 100 or > 999
    // (inside the Redis message handler) and a 1xx is not a response a consumer can read.
    fc.assert(
      fc.property(
        ref,
        fc.oneof(fc.integer({ min: -1_000_000, max: 199 }), fc.integer({ min: 600, max: 1_000_000 })),
        (streamRef, status) => {
          const wire = encodeControl(Kind.HEAD, { ref: streamRef, status, headers: {} });
          expect(decode(wire)).toBeUndefined();
        },
      ),
      { numRuns },
    );
  });
});

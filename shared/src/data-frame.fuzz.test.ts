/**
 * Property-based tests of the binary data-frame codec: what the relay's hot path reads from every
 * agent. At least 10 000 generated inputs per property (FUZZ_RUNS raises it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATA_HEADER_BYTES,
  DataKind,
  decodeDataFrame,
  encodeDataFrame,
  encodeDataFrameParts,
} from './data-frame.js';

const numRuns = Math.max(10_000, Number(process.env.FUZZ_RUNS) || 0);
const streamIds = fc.integer({ min: 1, max: 0xffff_ffff });
const payloads = fc.uint8Array({ maxLength: 256 });
const kinds = fc.constantFrom(DataKind.DATA, DataKind.BODY);
const KNOWN_KINDS: readonly number[] = Object.values(DataKind);
/** Request bodies as BODY frames carry them: JSON text with any code point, as UTF-8. */
const textBodies = fc
  .string({ unit: 'binary', maxLength: 128 })
  .map((t) => Buffer.from(JSON.stringify({ content: t })));

describe('data-frame codec (fuzz)', () => {
  it('round-trips every stream id and payload; the payload comes back as a view, not a copy', () => {
    fc.assert(
      fc.property(kinds, streamIds, fc.oneof(payloads, textBodies), (kind, stream, payload) => {
        const frame = encodeDataFrame(kind, stream, payload);
        expect(frame.byteLength).toBe(DATA_HEADER_BYTES + payload.byteLength);
        const decoded = decodeDataFrame(frame);
        expect(decoded).toBeDefined();
        expect(decoded!.kind).toBe(kind);
        expect(decoded!.stream).toBe(stream);
        expect(Buffer.compare(decoded!.payload, payload)).toBe(0);
        expect(decoded!.payload.buffer).toBe(frame.buffer);
        expect(decoded!.payload.byteOffset).toBe(frame.byteOffset + DATA_HEADER_BYTES);
      }),
      { numRuns },
    );
  });

  it('encodes several parts exactly as one concatenated payload', () => {
    fc.assert(
      fc.property(streamIds, fc.array(payloads, { maxLength: 8 }), (stream, parts) => {
        const total = parts.reduce((n, p) => n + p.byteLength, 0);
        const joined = encodeDataFrameParts(DataKind.DATA, stream, parts, total);
        expect(joined.equals(encodeDataFrame(DataKind.DATA, stream, Buffer.concat(parts)))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('never throws on arbitrary bytes, and accepts exactly the well-formed frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(16), (bytes, offset) => {
        // Decoding also runs on views into a larger buffer (ws hands those out): shift the bytes.
        const backing = Buffer.alloc(offset + bytes.length);
        backing.set(bytes, offset);
        const frame = backing.subarray(offset);
        const decoded = decodeDataFrame(frame);
        const wellFormed =
          frame.length >= DATA_HEADER_BYTES && KNOWN_KINDS.includes(frame[0]!) && frame.readUInt32BE(1) !== 0;
        expect(decoded !== undefined).toBe(wellFormed);
        if (decoded) {
          expect(decoded.stream).toBe(frame.readUInt32BE(1));
          expect(decoded.payload.equals(frame.subarray(DATA_HEADER_BYTES))).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it('rejects short frames, unknown kinds and stream 0', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: DATA_HEADER_BYTES - 1 }), (short) => {
        expect(decodeDataFrame(Buffer.from(short))).toBeUndefined();
      }),
      { numRuns },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((k) => !KNOWN_KINDS.includes(k)),
        streamIds,
        payloads,
        (kind, stream, payload) => {
          const frame = encodeDataFrame(DataKind.DATA, stream, payload);
          frame[0] = kind;
          expect(decodeDataFrame(frame)).toBeUndefined();
        },
      ),
      { numRuns },
    );
    fc.assert(
      fc.property(payloads, (payload) => {
        expect(decodeDataFrame(encodeDataFrame(DataKind.DATA, 0, payload))).toBeUndefined();
      }),
      { numRuns },
    );
  });
});

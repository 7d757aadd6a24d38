/**
 * Property-based tests of the agent's in-band error scanner (bridge-agent/src/upstream/in-band-error.ts):
 * it reads every byte of every streamed answer, so it must never throw, must find the bridge's
 * marker however the bytes are chunked, and must agree with a plain search of the whole stream.
 * At least 10 000 generated streams per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BRIDGE_ERROR_MARKER,
  BRIDGE_ERROR_PREFIX,
  firstEventError,
  laterEventError,
  MarkerScanner,
} from '../bridge-agent/src/upstream/in-band-error.js';

const numRuns = Math.max(10_000, Number(process.env.FUZZ_RUNS) || 0);

/** One SSE event in the bridge's shape (Python json.dumps spacing). */
const event = (content: string) =>
  `data: {"id": "chatcmpl-x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": ${JSON.stringify(content)}}, "finish_reason": null}]}\n\n`;

/** Bytes biased towards the marker's own characters, so near-misses and partial markers are common. */
const markerish = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .array(fc.constantFrom(...'\\n[LMArena Bridge Error]: "\n{}'.split('')), { maxLength: 48 })
    .map((chars) => Buffer.from(chars.join(''))),
  fc.nat(BRIDGE_ERROR_MARKER.length).map((cut) => BRIDGE_ERROR_MARKER.subarray(0, cut)),
  fc.nat(BRIDGE_ERROR_MARKER.length).map((cut) => BRIDGE_ERROR_MARKER.subarray(cut)),
  fc.constant(BRIDGE_ERROR_MARKER),
);
const streamBytes = fc.array(markerish, { maxLength: 8 }).map((parts) => Buffer.concat(parts));
/** Cut points that split a stream into chunks. */
const cuts = fc.array(fc.nat(), { maxLength: 12 });

function chunked(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => (bytes.length === 0 ? 0 : n % bytes.length)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Feeds chunks to a fresh scanner; the index of the chunk where it first fired, or -1. */
function firstHit(chunks: Buffer[]): number {
  const scanner = new MarkerScanner();
  for (let i = 0; i < chunks.length; i++) if (scanner.scan(chunks[i]!)) return i;
  return -1;
}

/** Where the marker first ends, as a chunk index, by brute force over the joined bytes. */
function expectedHit(chunks: Buffer[]): number {
  const at = Buffer.concat(chunks).indexOf(BRIDGE_ERROR_MARKER);
  if (at === -1) return -1;
  const end = at + BRIDGE_ERROR_MARKER.length;
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    offset += chunks[i]!.length;
    if (offset >= end) return i;
  }
  return -1;
}

describe('in-band error scanner (fuzz)', () => {
  it('fires in exactly the chunk where the marker first ends, however the stream is chunked', () => {
    fc.assert(
      fc.property(streamBytes, cuts, (bytes, at) => {
        const chunks = chunked(bytes, at);
        expect(firstHit(chunks)).toBe(expectedHit(chunks));
      }),
      { numRuns },
    );
  });

  it('finds a real bridge error event split anywhere, and never fires on ordinary model text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 24 }), { maxLength: 4 }),
        fc.string({ unit: 'binary', maxLength: 24 }),
        fc.boolean(),
        cuts,
        (texts, message, withError, at) => {
          // Model text may even mention the phrase: only the escaped prefix at the start of content counts.
          const normal = texts.map((t) => event(t.replaceAll(BRIDGE_ERROR_PREFIX, ''))).join('');
          const bytes = Buffer.from(normal + (withError ? event(BRIDGE_ERROR_PREFIX + message) : ''));
          // Rare: removing one prefix can join two halves into another one; then the text itself
          // carries the marker (mid-content), which the scanner flags by design.
          const textHasMarker = Buffer.from(normal).indexOf(BRIDGE_ERROR_MARKER) !== -1;
          expect(firstHit(chunked(bytes, at)) !== -1).toBe(withError || textHasMarker);
          if (withError) {
            const alone = Buffer.from(event(BRIDGE_ERROR_PREFIX + message));
            expect(firstEventError(alone.subarray(0, -2))).toBe(message);
            if (!textHasMarker) expect(laterEventError(bytes)).toBe(message);
          }
        },
      ),
      { numRuns },
    );
  });

  it('firstEventError and laterEventError never throw on arbitrary bytes', () => {
    fc.assert(
      fc.property(streamBytes, fc.uint8Array({ maxLength: 32 }), (bytes, noise) => {
        const joined = Buffer.concat([noise, bytes]);
        const first = firstEventError(joined);
        expect(first === undefined || typeof first === 'string').toBe(true);
        expect(typeof laterEventError(joined)).toBe('string');
      }),
      { numRuns },
    );
  });
});

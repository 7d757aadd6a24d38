/**
 * One piece of a chunked response body as one write. Node's `res.write` frames each piece itself
 * as four socket writes (its length in hex, CRLF, the bytes, CRLF): on a corked socket four
 * buffered entries and a writev of four, per chunk of every stream. Here the frame is built once,
 * the bytes copied once into a pooled Buffer (off the V8 heap), and handed to Node with its own
 * framing off for that one write: the same bytes on the wire, one entry, no hex string.
 */
import type { ServerResponse } from 'node:http';

const HEX = Buffer.from('0123456789abcdef');
const CR = 0x0d;
const LF = 0x0a;

/** Writes `bytes` as one body chunk of `res`; returns what `res.write` returned. */
export function writeBodyChunk(res: ServerResponse, bytes: Uint8Array): boolean {
  const length = bytes.byteLength;
  // Only a chunked body whose head is fixed: otherwise Node decides (and frames) as usual.
  if (length === 0 || !res.chunkedEncoding || !res.headersSent || res.writableEnded) return res.write(bytes);
  let digits = 1;
  while (digits < 8 && length >>> (4 * digits) !== 0) digits++;
  const frame = Buffer.allocUnsafe(digits + 4 + length);
  for (let i = digits - 1, rest = length; i >= 0; i--, rest >>>= 4) frame[i] = HEX[rest & 15]!;
  frame[digits] = CR;
  frame[digits + 1] = LF;
  frame.set(bytes, digits + 2);
  frame[digits + 2 + length] = CR;
  frame[digits + 3 + length] = LF;
  res.chunkedEncoding = false;
  try {
    return res.write(frame);
  } finally {
    res.chunkedEncoding = true;
  }
}

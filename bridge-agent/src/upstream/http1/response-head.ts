/**
 * The head of a bridge's HTTP/1.x response: gathered across reads (copied only when it is split,
 * bounded by HEAD_LIMIT), parsed once, and turned into how the body is delimited (RFC 9112 §6.3)
 * and whether the connection may carry another request. Everything from the bridge is hostile:
 * anything malformed or oversized is a BridgeHttpError, never a throw.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Largest response head (status line and headers), and largest trailer section, in bytes. */
export const HEAD_LIMIT = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
/** The headers the agent reads (forward.ts, pool.ts, frameBody): only these become strings. */
export const KEPT = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'retry-after',
];
const KEPT_BYTES = KEPT.map((name) => Buffer.from(name, 'latin1'));
const CR = 0x0d;
const LF = 0x0a;
const STATUS_PREFIX = Buffer.from('HTTP/1.', 'latin1');
/** Token characters of a header name (RFC 9110 §5.6.2), by byte. */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
/** What String.prototype.trim takes off a latin1 value: TAB, LF, VT, FF, CR, SP, NBSP. */
const isTrimmed = (b: number) => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
/** Control characters refused in a status reason and a field value: all but TAB; DEL. */
const isControl = (b: number) => (b < 0x20 && b !== 0x09) || b === 0x7f;

/** The end of the line starting at `at` (the next CRLF, or `to`, the end of the head). */
function lineEnd(head: Buffer, at: number, to: number): number {
  for (let i = at; i < to - 1; i++) if (head[i] === CR && head[i + 1] === LF) return i;
  return to;
}
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/**
 * A response the bridge broke. `code` is what classify.ts reads: BRIDGE_BAD_HTTP (malformed,
 * oversized) is the bridge's error; BRIDGE_CLOSED (cut short) reads as the bridge going away.
 */
export class BridgeHttpError extends Error {
  constructor(
    message: string,
    readonly code: 'BRIDGE_BAD_HTTP' | 'BRIDGE_CLOSED' = 'BRIDGE_BAD_HTTP',
  ) {
    super(message);
  }
}

/** How the body after a head is delimited: chunked, a length, to the close, or none. */
export type BodyFraming =
  | { kind: 'chunked' }
  | { kind: 'length'; length: number }
  | { kind: 'close' }
  | { kind: 'none' };

/** A parsed final head. */
export type ResponseHead = {
  status: number;
  headers: IncomingHttpHeaders;
  framing: BodyFraming;
  /** The connection may carry another request after this response (HTTP/1.1, no close, framed). */
  keepAlive: boolean;
};

/** What reading a head gave: more bytes needed, an informational head skipped, a head, or a failure. */
export type HeadResult = ResponseHead | 'more' | 'informational' | BridgeHttpError;

export class HeadReader {
  /** A head split across reads, copied here (bounded by HEAD_LIMIT). */
  #head: Buffer | undefined;
  #headSize = 0;
  /** Where the body starts in the bytes of the last `read` that completed a head. */
  after = 0;

  /** Reads head bytes from `bytes[at, end)`; on a head (or informational one), `after` is where the rest starts. */
  read(bytes: Buffer, at: number, end: number): HeadResult {
    if (this.#head === undefined) {
      const found = bytes.indexOf(HEAD_END, at);
      if (found === -1 || found + 4 > end) {
        return this.#keep(bytes, at, end) ?? 'more';
      }
      this.after = found + 4;
      return found - at > HEAD_LIMIT ? tooLarge() : parseHead(bytes, at, found);
    }
    // The end may straddle reads: look from 3 bytes before this read's start.
    const from = Math.max(0, this.#headSize - 3);
    const before = this.#headSize;
    const failed = this.#keep(bytes, at, end);
    if (failed) return failed;
    const kept = this.#head;
    const found = kept.subarray(0, this.#headSize).indexOf(HEAD_END, from);
    if (found === -1) return 'more';
    this.after = at + (found + 4 - before);
    this.#head = undefined;
    this.#headSize = 0;
    return found > HEAD_LIMIT ? tooLarge() : parseHead(kept, 0, found);
  }

  #keep(bytes: Buffer, at: number, end: number): BridgeHttpError | undefined {
    const size = this.#headSize + (end - at);
    if (size > HEAD_LIMIT + 3) return tooLarge();
    if (this.#head === undefined || this.#head.length < size) {
      const grown = Buffer.allocUnsafe(Math.min(HEAD_LIMIT + 3, Math.max(size, 2 * this.#headSize, 1024)));
      this.#head?.copy(grown, 0, 0, this.#headSize);
      this.#head = grown;
    }
    bytes.copy(this.#head, this.#headSize, at, end);
    this.#headSize = size;
    return undefined;
  }
}

const tooLarge = () => new BridgeHttpError('a response head too large');

/**
 * Parses the head in `head[from, to)` (its final CRLFCRLF excluded) byte by byte: no line, name
 * or value strings, except the values of the headers the agent reads (KEPT).
 */
function parseHead(head: Buffer, from: number, to: number): HeadResult {
  let end = lineEnd(head, from, to);
  const code = statusOf(head, from, end);
  if (code === 0) return new BridgeHttpError('a malformed status line');
  const headers: IncomingHttpHeaders = {};
  while (end < to) {
    const start = end + 2;
    end = lineEnd(head, start, to);
    const failed = readField(head, start, end, headers);
    if (failed) return failed;
  }
  if (code < 200) {
    // 100 Continue, 103 Early Hints: informational, the real head follows. 101 is never asked for.
    if (code === 101) return new BridgeHttpError('an unrequested protocol switch');
    return 'informational';
  }
  return frameBody(code, head[from + 7] === 0x31, headers);
}

/** `HTTP/1.x NNN[ reason]` in `head[from, end)`: its status code, or 0 when malformed. */
function statusOf(head: Buffer, from: number, end: number): number {
  if (end - from < 12 || head.compare(STATUS_PREFIX, 0, 7, from, from + 7) !== 0) return 0;
  const minor = head[from + 7]!;
  const a = head[from + 9]!;
  const b = head[from + 10]!;
  const c = head[from + 11]!;
  if ((minor !== 0x30 && minor !== 0x31) || head[from + 8] !== 0x20) return 0;
  if (a < 0x31 || a > 0x39 || !isDigit(b) || !isDigit(c)) return 0;
  if (end - from > 12 && head[from + 12] !== 0x20) return 0;
  for (let i = from + 13; i < end; i++) if (isControl(head[i]!)) return 0;
  return (a - 0x30) * 100 + (b - 0x30) * 10 + (c - 0x30);
}

/** One `name: value` line in `head[start, end)`; a kept header's value goes into `headers`. */
function readField(head: Buffer, start: number, end: number, headers: IncomingHttpHeaders) {
  let colon = start;
  while (colon < end && TOKEN_BYTE[head[colon]!] === 1) colon++;
  if (colon === start || colon === end || head[colon] !== 0x3a)
    return new BridgeHttpError('a malformed header line');
  let from = colon + 1;
  let to = end;
  while (from < to && isTrimmed(head[from]!)) from++;
  while (to > from && isTrimmed(head[to - 1]!)) to--;
  for (let i = from; i < to; i++)
    if (isControl(head[i]!)) return new BridgeHttpError('a control character in a header');
  const kept = keptName(head, start, colon);
  if (kept === undefined) return undefined;
  const value = head.toString('latin1', from, to);
  const previous = headers[kept];
  if (previous === undefined) headers[kept] = value;
  else if (kept === 'content-length' && previous !== value)
    return new BridgeHttpError('conflicting content-length headers');
  else if (kept !== 'content-length') headers[kept] = `${String(previous)}, ${value}`;
  return undefined;
}

/** The KEPT name `head[start, end)` is, in any case, or undefined. */
function keptName(head: Buffer, start: number, end: number): string | undefined {
  next: for (let k = 0; k < KEPT.length; k++) {
    const name = KEPT_BYTES[k]!;
    if (name.length !== end - start) continue;
    // Names are validated tokens: OR-ing 0x20 lower-cases a letter and maps no other token byte onto one.
    for (let i = 0; i < name.length; i++) if ((head[start + i]! | 0x20) !== name[i]) continue next;
    return KEPT[k];
  }
  return undefined;
}

/** How the body is delimited (RFC 9112 §6.3), and whether the connection can be reused. */
export function frameBody(status: number, http11: boolean, headers: IncomingHttpHeaders): HeadResult {
  const connection = String(headers.connection ?? '').toLowerCase();
  let keepAlive = http11 && !/(^|,)\s*close\s*(,|$)/.test(connection);
  const encoding = headers['transfer-encoding'];
  const length = headers['content-length'];
  let framing: BodyFraming;
  if (status === 204 || status === 304) {
    framing = { kind: 'none' };
  } else if (encoding !== undefined) {
    // A length beside an encoding is a smuggling shape: honour the encoding, never reuse.
    if (length !== undefined) keepAlive = false;
    if (/(^|,)\s*chunked\s*$/i.test(String(encoding)) && http11) {
      framing = { kind: 'chunked' };
    } else {
      framing = { kind: 'close' };
      keepAlive = false;
    }
  } else if (length !== undefined) {
    if (!/^\d{1,15}$/.test(String(length))) return new BridgeHttpError('a malformed content-length');
    const bytes = Number(length);
    framing = bytes === 0 ? { kind: 'none' } : { kind: 'length', length: bytes };
  } else {
    framing = { kind: 'close' };
    keepAlive = false;
  }
  return { status, headers, framing, keepAlive };
}

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
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\0-\x08\x0a-\x1f\x7f]*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Field values: visible ASCII, obs-text, spaces and tabs; no other control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;

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
    let head: Buffer;
    if (this.#head === undefined) {
      const found = bytes.indexOf(HEAD_END, at);
      if (found === -1 || found + 4 > end) {
        return this.#keep(bytes, at, end) ?? 'more';
      }
      head = bytes.subarray(at, found);
      this.after = found + 4;
    } else {
      // The end may straddle reads: look from 3 bytes before this read's start.
      const from = Math.max(0, this.#headSize - 3);
      const before = this.#headSize;
      const failed = this.#keep(bytes, at, end);
      if (failed) return failed;
      const found = this.#head.subarray(0, this.#headSize).indexOf(HEAD_END, from);
      if (found === -1) return 'more';
      head = this.#head.subarray(0, found);
      this.after = at + (found + 4 - before);
      this.#head = undefined;
      this.#headSize = 0;
    }
    if (head.length > HEAD_LIMIT) return new BridgeHttpError('a response head too large');
    return parseHead(head.toString('latin1'));
  }

  #keep(bytes: Buffer, at: number, end: number): BridgeHttpError | undefined {
    const size = this.#headSize + (end - at);
    if (size > HEAD_LIMIT + 3) return new BridgeHttpError('a response head too large');
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

function parseHead(text: string): HeadResult {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (!status) return new BridgeHttpError('a malformed status line');
  const minor = status[1];
  const code = Number(status[2]);
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return new BridgeHttpError('a malformed header line');
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) return new BridgeHttpError('a control character in a header');
    const key = name.toLowerCase();
    const previous = headers[key];
    if (previous === undefined) headers[key] = value;
    else if (key === 'content-length' && previous !== value)
      return new BridgeHttpError('conflicting content-length headers');
    else if (key !== 'content-length') headers[key] = `${String(previous)}, ${value}`;
  }
  if (code < 200) {
    // 100 Continue, 103 Early Hints: informational, the real head follows. 101 is never asked for.
    if (code === 101) return new BridgeHttpError('an unrequested protocol switch');
    return 'informational';
  }
  return frameBody(code, minor === '1', headers);
}

/** How the body is delimited (RFC 9112 §6.3), and whether the connection can be reused. */
function frameBody(status: number, http11: boolean, headers: IncomingHttpHeaders): HeadResult {
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

/**
 * An HTTP/1.x response parser for the agent's own bridge client: the head is parsed once, the body
 * (chunked, content-length or read to close) is handed out as views of the bytes the socket read,
 * never copied. Everything from the bridge is hostile: the head and a chunk's size line are capped,
 * anything malformed ends the response with a BridgeHttpError, and nothing throws out of `feed`.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Largest response head (status line and headers), and largest trailer section, in bytes. */
export const HEAD_LIMIT = 64 * 1024;
/** Longest chunk-size line (size and extensions), in bytes. */
const SIZE_LINE_LIMIT = 4096;
/** Hex digits of a chunk size: 12 is 256 TiB, below 2^53, so the count stays exact. */
const SIZE_DIGITS_LIMIT = 12;
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

export interface ResponseEvents {
  /** The final (non-1xx) head. */
  onHead(status: number, headers: IncomingHttpHeaders): void;
  /** A view of body bytes; false pauses the parser until `resume`. */
  onData(chunk: Buffer): boolean;
  /** The whole response has arrived. */
  onEnd(): void;
  onError(error: BridgeHttpError): void;
}

type State =
  | 'head'
  | 'size'
  | 'size-ext'
  | 'size-lf'
  | 'data'
  | 'data-cr'
  | 'data-lf'
  | 'trailer'
  | 'length'
  | 'close'
  | 'done'
  | 'failed';

const CR = 13;
const LF = 10;

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

export class ResponseParser {
  #state: State = 'head';
  readonly #events: ResponseEvents;
  /** A head split across reads, copied here (bounded by HEAD_LIMIT). */
  #head: Buffer | undefined;
  #headSize = 0;
  /** Bytes of the current chunk, or of a content-length body, still to come. */
  #remaining = 0;
  #digits = 0;
  #lineSize = 0;
  #trailerSize = 0;
  /** Bytes not yet parsed when `onData` asked for a pause. */
  #rest: Buffer | undefined;
  #paused = false;
  /** The socket ended while paused: the end is taken once the held bytes are. */
  #eofPending = false;
  /** The connection may carry another request after this response (HTTP/1.1, no close, framed body). */
  keepAlive = false;
  /** Bytes came after the end of the response: the connection is not to be reused. */
  surplus = false;

  constructor(events: ResponseEvents) {
    this.#events = events;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  get failed(): boolean {
    return this.#state === 'failed';
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** True while the response head has not fully arrived. */
  get inHead(): boolean {
    return this.#state === 'head';
  }

  /** Parses bytes the socket read. */
  feed(bytes: Buffer): void {
    if (this.#state === 'done' || this.#state === 'failed') {
      if (bytes.length > 0) this.surplus = true;
      return;
    }
    if (this.#paused) {
      // The owner pauses the socket with the parser; bytes read meanwhile wait their turn.
      this.#rest = this.#rest === undefined ? bytes : Buffer.concat([this.#rest, bytes]);
      return;
    }
    this.#run(bytes, 0);
  }

  /** Continues after a pause with the bytes held back. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest !== undefined) this.#run(rest, 0);
    if (this.#eofPending && !this.#paused) this.eof();
  }

  /** The socket ended: the end of a body read to close, else a response cut short. */
  eof(): void {
    if (this.#paused) {
      this.#eofPending = true;
      return;
    }
    this.#eofPending = false;
    if (this.#state === 'close') {
      this.#state = 'done';
      this.#events.onEnd();
    } else if (this.#state !== 'done' && this.#state !== 'failed') {
      const where = this.#state === 'head' ? 'before answering' : 'mid-body';
      this.#fail(`the bridge closed the connection ${where}`, 'BRIDGE_CLOSED');
    }
  }

  #fail(message: string, code: BridgeHttpError['code'] = 'BRIDGE_BAD_HTTP'): void {
    this.#state = 'failed';
    this.keepAlive = false;
    this.#rest = undefined;
    this.#events.onError(new BridgeHttpError(message, code));
  }

  #run(bytes: Buffer, start: number): void {
    let at = start;
    const end = bytes.length;
    while (at < end) {
      switch (this.#state) {
        case 'head':
          at = this.#readHead(bytes, at);
          // A body-less answer (204, 304, content-length 0) ends with its head.
          if ((this.#state as State) === 'done') return this.#finish(at < end);
          break;
        case 'data':
        case 'length':
        case 'close': {
          const take = this.#state === 'close' ? end - at : Math.min(this.#remaining, end - at);
          const piece = at === 0 && take === end ? bytes : bytes.subarray(at, at + take);
          at += take;
          if (this.#state !== 'close') {
            this.#remaining -= take;
            if (this.#remaining === 0) this.#state = this.#state === 'data' ? 'data-cr' : 'done';
          }
          const more = this.#events.onData(piece);
          // The sink may have failed the stream from inside onData: stop quietly.
          if ((this.#state as State) === 'failed') return;
          if (this.#state === 'done') return this.#finish(at < end);
          if (!more) {
            this.#paused = true;
            if (at < end) this.#rest = bytes.subarray(at);
            return;
          }
          break;
        }
        case 'done':
          this.surplus = true;
          return;
        case 'failed':
          return;
        default:
          at = this.#readFraming(bytes, at, end);
          if ((this.#state as State) === 'done') return this.#finish(at < end);
      }
      if ((this.#state as State) === 'failed') return;
    }
  }

  /** Chunk-size lines, the CRLF after chunk data and the trailer section, byte by byte (a few per chunk). */
  #readFraming(bytes: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end) {
      const byte = bytes[at++]!;
      switch (this.#state) {
        case 'size': {
          if (++this.#lineSize > SIZE_LINE_LIMIT) return this.#bad('a chunk-size line too long', end);
          const value = hexValue(byte);
          if (value !== -1) {
            if (++this.#digits > SIZE_DIGITS_LIMIT) return this.#bad('a chunk size too large', end);
            this.#remaining = this.#remaining * 16 + value;
          } else if (this.#digits === 0) {
            return this.#bad('a malformed chunk size', end);
          } else if (byte === CR) {
            this.#state = 'size-lf';
          } else if (byte === 59 /* ; */ || byte === 32 || byte === 9) {
            this.#state = 'size-ext';
          } else {
            return this.#bad('a malformed chunk size', end);
          }
          break;
        }
        case 'size-ext':
          if (++this.#lineSize > SIZE_LINE_LIMIT) return this.#bad('a chunk-size line too long', end);
          if (byte === CR) this.#state = 'size-lf';
          else if (byte === LF || byte === 0 || byte === 127)
            return this.#bad('a malformed chunk extension', end);
          break;
        case 'size-lf':
          if (byte !== LF) return this.#bad('a chunk-size line without CRLF', end);
          this.#lineSize = 0;
          this.#digits = 0;
          if (this.#remaining === 0) {
            this.#state = 'trailer';
            this.#trailerSize = 0;
          } else {
            this.#state = 'data';
            return at;
          }
          break;
        case 'data-cr':
          if (byte !== CR) return this.#bad('chunk data longer than its size', end);
          this.#state = 'data-lf';
          break;
        case 'data-lf':
          if (byte !== LF) return this.#bad('chunk data longer than its size', end);
          this.#state = 'size';
          break;
        case 'trailer':
          // Trailers are read and dropped: the relay has nothing to do with them.
          if (++this.#trailerSize > HEAD_LIMIT) return this.#bad('trailers too large', end);
          if (byte === LF) {
            // A line of just CRLF (or LF) ends the message.
            if (this.#lineSize === 0) {
              this.#state = 'done';
              return at;
            }
            this.#lineSize = 0;
          } else if (byte !== CR) {
            this.#lineSize++;
          }
          break;
        default:
          return at - 1;
      }
    }
    return at;
  }

  /** The response is complete; `more`: bytes followed it in the same read. */
  #finish(more: boolean): void {
    if (more) this.surplus = true;
    this.#events.onEnd();
  }

  /** Stops without an event (the owner gave up on the response). */
  stop(): void {
    this.#state = 'failed';
    this.keepAlive = false;
    this.#rest = undefined;
  }

  #bad(message: string, end: number): number {
    this.#fail(message);
    return end;
  }

  /** Reads the head from `at`; returns where the body starts (or `bytes.length` when more is needed). */
  #readHead(bytes: Buffer, at: number): number {
    let head: Buffer;
    let after: number;
    if (this.#head === undefined) {
      const found = bytes.indexOf(HEAD_END, at);
      if (found === -1) {
        this.#keepHead(bytes, at);
        return bytes.length;
      }
      head = bytes.subarray(at, found);
      after = found + 4;
    } else {
      // The end may straddle reads: look from 3 bytes before this read's start.
      const from = Math.max(0, this.#headSize - 3);
      const before = this.#headSize;
      this.#keepHead(bytes, at);
      if (this.#state === 'failed') return bytes.length;
      const found = this.#head.subarray(0, this.#headSize).indexOf(HEAD_END, from);
      if (found === -1) return bytes.length;
      head = this.#head.subarray(0, found);
      after = at + (found + 4 - before);
      this.#head = undefined;
      this.#headSize = 0;
    }
    if (head.length > HEAD_LIMIT) {
      this.#fail('a response head too large');
      return bytes.length;
    }
    this.#parseHead(head.toString('latin1'));
    return after;
  }

  #keepHead(bytes: Buffer, at: number): void {
    const size = this.#headSize + (bytes.length - at);
    if (size > HEAD_LIMIT + 3) return this.#fail('a response head too large');
    if (this.#head === undefined || this.#head.length < size) {
      const grown = Buffer.allocUnsafe(Math.min(HEAD_LIMIT + 3, Math.max(size, 2 * this.#headSize, 1024)));
      this.#head?.copy(grown, 0, 0, this.#headSize);
      this.#head = grown;
    }
    bytes.copy(this.#head, this.#headSize, at);
    this.#headSize = size;
  }

  #parseHead(text: string): void {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (!status) return this.#fail('a malformed status line');
    const minor = status[1];
    const code = Number(status[2]);
    const headers: IncomingHttpHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) return this.#fail('a malformed header line');
      const value = line.slice(colon + 1).trim();
      if (BAD_VALUE.test(value)) return this.#fail('a control character in a header');
      const key = name.toLowerCase();
      const previous = headers[key];
      if (previous === undefined) headers[key] = value;
      else if (key === 'content-length' && previous !== value)
        return this.#fail('conflicting content-length headers');
      else if (key !== 'content-length') headers[key] = `${String(previous)}, ${value}`;
    }
    if (code < 200) {
      // 100 Continue, 103 Early Hints: informational, the real head follows. 101 is never asked for.
      if (code === 101) return this.#fail('an unrequested protocol switch');
      return;
    }
    this.#frameBody(code, minor === '1', headers);
    if (this.#state === 'failed') return;
    this.#events.onHead(code, headers);
  }

  /** How the body is delimited (RFC 9112 §6.3), and whether the connection can be reused. */
  #frameBody(code: number, http11: boolean, headers: IncomingHttpHeaders): void {
    const connection = String(headers.connection ?? '').toLowerCase();
    this.keepAlive = http11 && !/(^|,)\s*close\s*(,|$)/.test(connection);
    const encoding = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (code === 204 || code === 304) {
      this.#state = 'done';
    } else if (encoding !== undefined) {
      // A length beside an encoding is a smuggling shape: honour the encoding, never reuse.
      if (length !== undefined) this.keepAlive = false;
      if (/(^|,)\s*chunked\s*$/i.test(String(encoding)) && http11) {
        this.#state = 'size';
        this.#remaining = 0;
        this.#digits = 0;
        this.#lineSize = 0;
      } else {
        this.#state = 'close';
        this.keepAlive = false;
      }
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(String(length))) return this.#fail('a malformed content-length');
      this.#remaining = Number(length);
      this.#state = this.#remaining === 0 ? 'done' : 'length';
    } else {
      this.#state = 'close';
      this.keepAlive = false;
    }
  }
}

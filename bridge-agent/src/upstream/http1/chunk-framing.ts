/**
 * The framing bytes of a chunked body (RFC 9112 §7.1): chunk-size lines with their extensions,
 * the CRLF after each chunk's data and the trailer section, read byte by byte (a few per chunk),
 * each line capped. The data between is the parser's (response-parser.ts): this reads up to the
 * next chunk's data, the end of the body, or a malformed byte.
 */
import { HEAD_LIMIT } from './response-head.js';

/** Longest chunk-size line (size and extensions), in bytes. */
const SIZE_LINE_LIMIT = 4096;
/** Hex digits of a chunk size: 12 is 256 TiB, below 2^53, so the count stays exact. */
const SIZE_DIGITS_LIMIT = 12;
const CR = 13;
const LF = 10;

/** Where in the framing the reader is; `data` and `done` are where it hands back. */
export type FramingState =
  | 'size'
  | 'size-ext'
  | 'size-lf'
  | 'data'
  | 'data-cr'
  | 'data-lf'
  | 'trailer'
  | 'done';

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

export class ChunkFraming {
  state: FramingState = 'size';
  /** The size of the chunk whose data comes next (once `state` is `data`). */
  size = 0;
  /** Why the framing is broken, once it is. */
  problem: string | undefined;
  #digits = 0;
  #lineSize = 0;
  #trailerSize = 0;

  /** Starts on a new body. */
  reset(): void {
    this.state = 'size';
    this.size = 0;
    this.#digits = 0;
    this.#lineSize = 0;
  }

  /** The chunk's data was read: its CRLF comes next. */
  dataRead(): void {
    this.state = 'data-cr';
  }

  /**
   * Reads framing bytes from `bytes[start, end)`; returns where it stopped: at the start of a
   * chunk's data (`state` data), after the body (`state` done), at `end`, or on a problem (set).
   */
  read(bytes: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end) {
      const byte = bytes[at++]!;
      switch (this.state) {
        case 'size': {
          if (++this.#lineSize > SIZE_LINE_LIMIT) return this.#bad('a chunk-size line too long', end);
          const value = hexValue(byte);
          if (value !== -1) {
            if (++this.#digits > SIZE_DIGITS_LIMIT) return this.#bad('a chunk size too large', end);
            this.size = this.size * 16 + value;
          } else if (this.#digits === 0) {
            return this.#bad('a malformed chunk size', end);
          } else if (byte === CR) {
            this.state = 'size-lf';
          } else if (byte === 59 /* ; */ || byte === 32 || byte === 9) {
            this.state = 'size-ext';
          } else {
            return this.#bad('a malformed chunk size', end);
          }
          break;
        }
        case 'size-ext':
          if (++this.#lineSize > SIZE_LINE_LIMIT) return this.#bad('a chunk-size line too long', end);
          if (byte === CR) this.state = 'size-lf';
          else if (byte === LF || byte === 0 || byte === 127)
            return this.#bad('a malformed chunk extension', end);
          break;
        case 'size-lf':
          if (byte !== LF) return this.#bad('a chunk-size line without CRLF', end);
          this.#lineSize = 0;
          this.#digits = 0;
          if (this.size === 0) {
            this.state = 'trailer';
            this.#trailerSize = 0;
          } else {
            this.state = 'data';
            return at;
          }
          break;
        case 'data-cr':
          if (byte !== CR) return this.#bad('chunk data longer than its size', end);
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (byte !== LF) return this.#bad('chunk data longer than its size', end);
          this.state = 'size';
          this.size = 0;
          break;
        case 'trailer':
          // Trailers are read and dropped: the relay has nothing to do with them.
          if (++this.#trailerSize > HEAD_LIMIT) return this.#bad('trailers too large', end);
          if (byte === LF) {
            // A line of just CRLF (or LF) ends the message.
            if (this.#lineSize === 0) {
              this.state = 'done';
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

  #bad(problem: string, end: number): number {
    this.problem = problem;
    return end;
  }
}

/**
 * Counts the characters of a streamed answer as its bytes go by, without parsing events: a
 * native search (or, for an event that starts like the previous one, a native compare) finds
 * each `"content":` key, then a tight loop walks that JSON string only; the ~90 % of each event
 * that is envelope is never looked at byte by byte. Every byte is searched, compared or walked,
 * so no key is missed. Keys, strings and escapes split across chunks are handled. Nothing is
 * allocated per chunk: the remembered prefix is copied, when the envelope changes (LMArenaBridge:
 * when its `created` second ticks), into one buffer the counter keeps.
 *
 * A character is a Unicode code point of the decoded text: a UTF-8 sequence counts once, an
 * escape (`\n`, `\"`, `\u00e9`) once, a `\uD83D\uDE00` surrogate pair once.
 */

const KEY = Buffer.from('"content":');
const QUOTE = 0x22;
const LF = 0x0a;
const BACKSLASH = 0x5c;
/** Below this many bytes, the scanner walks them in JS rather than calling `indexOf`. */
const SHORT_REST = 64;
/** Longest event prefix remembered (LMArenaBridge's are ~180 bytes). */
const MAX_PREFIX = 1024;

// States of the scanner.
const SEEK = 0; // looking for the next `"content":`
const VALUE = 1; // after the key: whitespace, then a string (counted) or anything else (skipped)
const STRING = 2; // inside the content string
const ESCAPE = 3; // after a backslash
const UNICODE = 4; // inside the four hex digits of `\uXXXX`

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : 0;
}

export class ContentCounter {
  /** Code points of every `content` string seen so far. */
  chars = 0;
  private state = SEEK;
  /** Bytes of KEY matched at the end of the previous chunk. */
  private matched = 0;
  private hex = 0;
  private hexLeft = 0;
  /** The next byte starts an SSE event (the stream's start, or just after a blank line). */
  private atEventStart = true;
  /** The chunk ended with the `\n` of a line: a `\n` next would end the event. */
  private lfPending = false;
  /** An event's bytes from its start to the end of its first key, as last found by search: the first `prefixLength` bytes. */
  private prefix: Buffer | undefined;
  private prefixLength = 0;

  scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case SEEK:
          i = this.seek(chunk, i);
          break;
        case VALUE: {
          const byte = chunk[i]!;
          if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) {
            i++;
          } else if (byte === QUOTE) {
            this.state = STRING;
            i++;
          } else {
            this.state = SEEK; // null or another non-string value: nothing to count
          }
          break;
        }
        case STRING:
          i = this.string(chunk, i);
          break;
        case ESCAPE:
          if (chunk[i++] === 0x75) {
            this.state = UNICODE;
            this.hex = 0;
            this.hexLeft = 4;
          } else {
            this.chars++;
            this.state = STRING;
          }
          break;
        default:
          this.hex = this.hex * 16 + hexValue(chunk[i++]!);
          if (--this.hexLeft === 0) {
            // A low surrogate completes a pair already counted by its high half.
            if (this.hex < 0xdc00 || this.hex > 0xdfff) this.chars++;
            this.state = STRING;
          }
      }
    }
  }

  /** Moves past the next key (state VALUE) or to the end of the chunk; returns the new offset. */
  private seek(chunk: Buffer, from: number): number {
    const n = chunk.length;
    const i = from;
    if (this.matched > 0) {
      const take = Math.min(KEY.length - this.matched, n - i);
      if (KEY.compare(chunk, i, i + take, this.matched, this.matched + take) === 0) {
        this.matched += take;
        if (this.matched < KEY.length) return n;
        this.matched = 0;
        this.state = VALUE;
        return i + take;
      }
      this.matched = 0;
    }
    if (this.lfPending) {
      this.lfPending = false;
      if (chunk[i] === LF) return this.event(chunk, i + 1);
    }
    if (this.atEventStart) {
      this.atEventStart = false;
      return this.event(chunk, i);
    }
    // Inside an event: the rest of its line (a key cannot span a line end), then the next event.
    const lineEnd = chunk.indexOf(LF, i);
    if (lineEnd === -1) return this.rest(chunk, i, -1);
    const found = this.keyEnd(chunk, i, lineEnd);
    if (found !== -1) {
      this.state = VALUE;
      return found;
    }
    if (lineEnd + 1 === n) {
      this.lfPending = true;
      return n;
    }
    return chunk[lineEnd + 1] === LF ? this.event(chunk, lineEnd + 2) : lineEnd + 1;
  }

  /**
   * At the start of an event: when its first bytes equal those of the last event whose key was
   * found by search (same id, model and time: LMArenaBridge's chunks), its key is at the same
   * place — one compare instead of a search. Otherwise search, and remember this event's bytes.
   */
  private event(chunk: Buffer, start: number): number {
    const n = chunk.length;
    if (start === n) {
      this.atEventStart = true;
      return n;
    }
    const { prefix, prefixLength } = this;
    if (
      prefix &&
      n - start >= prefixLength &&
      chunk.compare(prefix, 0, prefixLength, start, start + prefixLength) === 0
    ) {
      this.state = VALUE;
      return start + prefixLength;
    }
    return this.rest(chunk, start, start);
  }

  /**
   * Searches the rest of the chunk for a key; remembers a key split by the chunk's end. With
   * `eventStart` ≥ 0, a key found on the event's first line teaches `event` its prefix.
   */
  private rest(chunk: Buffer, i: number, eventStart: number): number {
    const n = chunk.length;
    if (n - i <= SHORT_REST) return this.restShort(chunk, i);
    const at = chunk.indexOf(KEY, i);
    if (at !== -1) {
      if (eventStart >= 0 && at - eventStart <= MAX_PREFIX) {
        const lf = chunk.indexOf(LF, eventStart);
        if (lf === -1 || lf > at) this.remember(chunk, eventStart, at + KEY.length);
      }
      this.state = VALUE;
      return at + KEY.length;
    }
    // The chunk may end inside a key: remember how much of it.
    for (i = Math.max(i, n - KEY.length + 1); i < n; i++) {
      if (chunk[i] === QUOTE && KEY.compare(chunk, i, n, 0, n - i) === 0) {
        this.matched = n - i;
        break;
      }
    }
    return n;
  }

  /** Copies chunk[from, to) into the prefix buffer, grown (never per chunk) when it is too small. */
  private remember(chunk: Buffer, from: number, to: number): void {
    const length = to - from;
    if (!this.prefix || this.prefix.length < length)
      this.prefix = Buffer.allocUnsafeSlow(Math.max(length, 256));
    chunk.copy(this.prefix, 0, from, to);
    this.prefixLength = length;
  }

  /**
   * `rest` over a few bytes (typically an event's tail after its content): a walk from quote to
   * quote costs less there than setting up a native search.
   */
  private restShort(chunk: Buffer, from: number): number {
    const n = chunk.length;
    for (let i = from; i < n; i++) {
      if (chunk[i] !== QUOTE) continue;
      let j = 1;
      while (j < KEY.length && i + j < n && chunk[i + j] === KEY[j]) j++;
      if (j === KEY.length) {
        this.state = VALUE;
        return i + j;
      }
      if (i + j === n) {
        this.matched = j; // the chunk ends inside what may be a key
        return n;
      }
    }
    return n;
  }

  /** The end of the first key wholly inside [from, to), or -1. */
  private keyEnd(chunk: Buffer, from: number, to: number): number {
    if (to - from > SHORT_REST) {
      const at = chunk.indexOf(KEY, from);
      return at !== -1 && at + KEY.length <= to ? at + KEY.length : -1;
    }
    for (let i = from; i + KEY.length <= to; i++) {
      if (chunk[i] !== QUOTE) continue;
      let j = 1;
      while (j < KEY.length && chunk[i + j] === KEY[j]) j++;
      if (j === KEY.length) return i + j;
    }
    return -1;
  }

  /** Counts string bytes up to its closing quote or a backslash; returns the new offset. */
  private string(chunk: Buffer, from: number): number {
    const n = chunk.length;
    for (let i = from; i < n; i++) {
      const byte = chunk[i]!;
      if (byte === QUOTE) {
        this.state = SEEK;
        return i + 1;
      }
      if (byte === BACKSLASH) {
        this.state = ESCAPE;
        return i + 1;
      }
      // UTF-8 continuation bytes (10xxxxxx) belong to a character already counted.
      if ((byte & 0xc0) !== 0x80) this.chars++;
    }
    return n;
  }
}

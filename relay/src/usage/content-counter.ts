/**
 * Counts the characters of a streamed answer as its bytes go by, without parsing events: one
 * `indexOf` finds each `"content":` key, then a tight loop walks that JSON string only (the ~90 %
 * of each event that is envelope is skipped by the native search). Keys, strings and escapes
 * split across chunks are handled; nothing is allocated per chunk.
 *
 * A character is a Unicode code point of the decoded text: a UTF-8 sequence counts once, an
 * escape (`\n`, `\"`, `\u00e9`) once, a `\uD83D\uDE00` surrogate pair once.
 */

const KEY = Buffer.from('"content":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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
    let i = from;
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
    const at = chunk.indexOf(KEY, i);
    if (at !== -1) {
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

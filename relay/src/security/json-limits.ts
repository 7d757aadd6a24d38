/**
 * Structural limits on consumer JSON, checked on the raw bytes before JSON.parse: nesting depth
 * (default 64) and the number of values in any one array or object (default 10 000). One pass,
 * no allocation; strings are skipped with their escapes.
 */
import { RelayError } from '../errors/relay-error.js';

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

export function checkJsonLimits(body: Uint8Array, maxDepth = 64, maxItems = 10_000): void {
  let depth = 0;
  const items: number[] = [];
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    if (inString) {
      // Jump to the string's closing quote natively (a 3 MiB base64 image took ~15 ms a byte at
      // a time): the next quote not preceded by an odd run of backslashes.
      const quote = body.indexOf(QUOTE, i);
      if (quote === -1) return; // unterminated: JSON.parse says so
      let backslashes = 0;
      while (quote - backslashes - 1 >= i && body[quote - backslashes - 1] === BACKSLASH) backslashes++;
      i = quote;
      if (backslashes % 2 === 0) inString = false;
      continue;
    }
    const byte = body[i];
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > maxDepth) {
        throw new RelayError('invalid_request', `request body nests deeper than ${maxDepth} levels`);
      }
      items.push(0);
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
      items.pop();
    } else if (byte === COMMA && items.length > 0) {
      const top = items.length - 1;
      if (++items[top]! >= maxItems) {
        throw new RelayError(
          'invalid_request',
          `an array or object in the request body has more than ${maxItems} items`,
        );
      }
    }
  }
}

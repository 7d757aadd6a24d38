/**
 * Cutting text that a peer chose (an agent's reason, a consumer's header, a bridge's message)
 * before it reaches an API with a length limit: WebSocket close reasons (123 bytes), header
 * values, log lines, Redis keys, schema-bounded frame strings. One helper, used everywhere: two
 * copies once diverged, and the one that cut through a UTF-8 sequence crashed the relay.
 */

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
export const CLOSE_REASON_MAX_BYTES = 123;

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = 3;

/**
 * `text` in at most `maxBytes` bytes of UTF-8, cut on a character boundary (never inside a
 * surrogate pair), with `…` marking a cut when it fits. Lone surrogates count as the three bytes
 * of U+FFFD they encode to.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  // Fast path: every UTF-16 unit is at most 3 bytes of UTF-8.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const budget = maxBytes >= ELLIPSIS_BYTES * 2 ? maxBytes - ELLIPSIS_BYTES : maxBytes;
  const end = cutIndex(text, budget);
  return budget < maxBytes ? `${text.slice(0, end)}${ELLIPSIS}` : text.slice(0, end);
}

/**
 * `text` in at most `maxUnits` UTF-16 code units (what `string.length` and zod's `max()` count),
 * cut on a character boundary, `…` marking a cut.
 */
export function truncateChars(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  if (maxUnits < 2) return text.slice(0, isHighSurrogate(text, maxUnits - 1) ? 0 : maxUnits);
  let end = maxUnits - 1;
  if (isHighSurrogate(text, end - 1)) end--;
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

/** A WebSocket close reason: always within RFC 6455's 123 bytes, whatever `text` holds. */
export function closeReason(text: string): string {
  return truncateUtf8(text, CLOSE_REASON_MAX_BYTES);
}

/** The index where a prefix of `text` of at most `maxBytes` UTF-8 bytes ends. */
function cutIndex(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    let width: number;
    let units = 1;
    if (unit < 0x80) width = 1;
    else if (unit < 0x800) width = 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text, i + 1)) {
      width = 4;
      units = 2;
    } else width = 3;
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return i;
}

function isHighSurrogate(text: string, index: number): boolean {
  const unit = text.charCodeAt(index);
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(text: string, index: number): boolean {
  const unit = text.charCodeAt(index);
  return unit >= 0xdc00 && unit <= 0xdfff;
}

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

/*
 * Remote text on a terminal or a page. A relay's refusal message, a close reason or a bridge's
 * words are the peer's choice: printed raw, escape sequences rewrite what the owner reads (a
 * "fail" line turned into "ok … run curl … | sudo sh"), and bidi overrides reorder it.
 */

// Whole sequences go first, so no parameter bytes are left behind as text: CSI (ESC [ or 0x9B,
// then parameter, intermediate and final bytes), the string commands OSC, DCS, SOS, PM and APC
// (ESC ] P X ^ _ or their C1 forms, up to BEL or ST, or the end when unterminated), and the other
// ESC sequences (intermediates, then one final byte). Each alternative consumes what it matches
// with no backtracking into itself: linear in the text's length.
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed.
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;

// Every other C0 control but tab and line feed (carriage return included: it rewrites the line),
// DEL, C1, and the marks, embeddings, overrides and isolates of the bidi algorithm.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Line and paragraph breaks that a one-line context turns into spaces. */
const LINE_BREAKS = /[\t\n\u2028\u2029]/g;

/**
 * `text` fit to print to a terminal or write into a page: escape sequences (CSI, OSC and the other
 * string commands, two-byte ESC sequences) removed whole; other C0 controls, DEL, C1 and bidi
 * controls removed. Tabs and line feeds stay when `multiline`, else they (and U+2028/U+2029)
 * become spaces, so one remote string cannot start a line of its own.
 */
export function stripControls(text: string, options: { multiline?: boolean } = {}): string {
  const cleaned = text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
  return options.multiline ? cleaned.replace(/[\u2028\u2029]/g, '\n') : cleaned.replace(LINE_BREAKS, ' ');
}

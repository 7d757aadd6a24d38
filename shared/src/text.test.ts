import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSE_REASON_MAX_BYTES, closeReason, truncateChars, truncateUtf8 } from './text.js';

/** True when `text` has a high surrogate without its low one (or a low one alone) at `end`. */
const splitsPair = (text: string, end: number) => {
  const before = text.charCodeAt(end - 1);
  const after = text.charCodeAt(end);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
};

const stripEllipsis = (text: string) => (text.endsWith('…') ? text.slice(0, -1) : text);

describe('truncateUtf8', () => {
  it('keeps short text as it is', () => {
    expect(truncateUtf8('héllo', 10)).toBe('héllo');
    expect(truncateUtf8('', 0)).toBe('');
  });

  it('cuts between characters and marks the cut', () => {
    // 'é' is 2 bytes: 4 of them do not fit in 7, and with the 3-byte ellipsis only 2 do.
    expect(truncateUtf8('éééé', 7)).toBe('éé…');
    expect(truncateUtf8('🦄🦄', 7)).toBe('🦄…');
    expect(truncateUtf8('🦄🦄', 5)).toBe('🦄');
    expect(Buffer.byteLength(truncateUtf8('🦄🦄', 7))).toBeLessThanOrEqual(7);
  });

  it('fuzz: never over the limit, always a prefix, never half a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(300), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(Math.max(max, 0));
        const kept = cut === text ? text : stripEllipsis(cut);
        expect(text.startsWith(kept)).toBe(true);
        if (kept !== text) expect(splitsPair(text, kept.length)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('truncateChars', () => {
  it('fuzz: never over the limit in code units, never half a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), fc.nat(120), (text, max) => {
        const cut = truncateChars(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        const kept = cut === text ? text : stripEllipsis(cut);
        expect(text.startsWith(kept)).toBe(true);
        if (kept !== text) expect(splitsPair(text, kept.length)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('closeReason', () => {
  it('fits RFC 6455 and stays valid UTF-8 whatever the text (ws throws on anything else)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (text) => {
        const reason = closeReason(`invalid control frame at headers.${text}`);
        const bytes = Buffer.from(reason);
        expect(bytes.byteLength).toBeLessThanOrEqual(CLOSE_REASON_MAX_BYTES);
        expect(bytes.toString('utf8')).toBe(reason);
      }),
      { numRuns: 3000 },
    );
  });
});

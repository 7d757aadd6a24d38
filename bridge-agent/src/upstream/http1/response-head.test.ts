import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BridgeHttpError, frameBody, HeadReader, type HeadResult, KEPT } from './response-head.js';

/**
 * The string parser the byte-level one replaced (split, regex, trim, toLowerCase): the oracle the
 * property below holds it to, outcome for outcome, on valid and hostile heads.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\0-\x08\x0a-\x1f\x7f]*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;

function oracle(text: string): string | { status: number; http11: boolean; headers: IncomingHttpHeaders } {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (!status) return 'a malformed status line';
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return 'a malformed header line';
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) return 'a control character in a header';
    const key = name.toLowerCase();
    const previous = headers[key];
    if (previous === undefined) headers[key] = value;
    else if (key === 'content-length' && previous !== value) return 'conflicting content-length headers';
    else if (key !== 'content-length') headers[key] = `${String(previous)}, ${value}`;
  }
  return { status: Number(status[2]), http11: status[1] === '1', headers };
}

/** What the oracle says `head` (its end excluded) parses to, in HeadResult's terms where they meet. */
function expected(head: Buffer) {
  const seen = oracle(head.toString('latin1'));
  if (typeof seen === 'string') return seen;
  if (seen.status === 101) return 'an unrequested protocol switch';
  if (seen.status < 200) return 'informational';
  const kept = Object.fromEntries(
    KEPT.filter((k) => seen.headers[k] !== undefined).map((k) => [k, seen.headers[k]]),
  );
  return actual(frameBody(seen.status, seen.http11, kept));
}

function actual(result: HeadResult) {
  if (result instanceof BridgeHttpError) return result.message;
  if (typeof result === 'string') return result;
  return { ...result, headers: { ...result.headers } };
}

const HEAD_END = Buffer.from('\r\n\r\n');

describe('HeadReader parse', () => {
  it('keeps the headers the agent reads, in any case, joined or checked as before', () => {
    const head = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Other: \u00a0drop me\r\n' +
        'CONNECTION: keep-alive\r\nconnection: upgrade\r\nContent-Length:  5 \t\r\ncontent-length: 5\r\n\r\n',
      'latin1',
    );
    const result = new HeadReader().read(head, 0, head.length);
    expect(result).toEqual({
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        connection: 'keep-alive, upgrade',
        'content-length': '5',
      },
      framing: { kind: 'length', length: 5 },
      keepAlive: true,
    });
  });

  const statuses = [
    'HTTP/1.1 200 OK',
    'HTTP/1.0 200 OK',
    'HTTP/1.1 204',
    'HTTP/1.1 200 ',
    'HTTP/1.1 429 Too Many\tRequests \u00ff',
    'HTTP/1.1 100 Continue',
    'HTTP/1.1 101 Switching',
    'HTTP/1.1 099 x',
    'HTTP/1.2 200 OK',
    'HTTP/1.1 2000',
    'http/1.1 200 OK',
    'HTTP/1.1 200 O\rK',
    'HTTP/1.1  200',
    '',
  ];
  const names = [
    ...KEPT,
    'Content-Type',
    'CONTENT-LENGTH',
    'Keep-Alive',
    'x-a',
    'contentxlength',
    'content-lengt',
    '',
  ];
  const valueByte = fc.oneof(
    fc.constantFrom(0x20, 0x09, 0x0b, 0x0c, 0x0d, 0x0a, 0xa0, 0x00, 0x7f, 0x3a, 0x80, 0xff),
    fc.integer({ min: 0x21, max: 0x7e }),
  );
  const field = fc.tuple(
    fc.constantFrom(...names),
    fc.oneof(fc.constantFrom(':', ': ', ' :', ':\t', ''), fc.constant(': ')),
    fc.oneof(
      fc.constantFrom('5', '0', '7', 'chunked', 'gzip, chunked', 'close', 'timeout=5', 'text/event-stream'),
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.array(valueByte, { maxLength: 8 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
  );

  it('byte-level parsing gives exactly what the string parser gave, on valid and hostile heads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...statuses),
        fc.array(field, { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.array(fc.nat(400), { maxLength: 3 }),
        (status, fields, inserts, cuts) => {
          const text = [status, ...fields.map(([n, sep, v]) => `${n}${sep}${v}`)].join('\r\n');
          const bytes = [...Buffer.from(text, 'latin1')];
          for (const [at, byte] of inserts) bytes.splice(at % (bytes.length + 1), 0, byte);
          const whole = Buffer.concat([Buffer.from(bytes), HEAD_END]);
          const head = whole.subarray(0, whole.indexOf(HEAD_END));
          // Fed whole, and fed in pieces (the copied path).
          expect(actual(new HeadReader().read(whole, 0, whole.length))).toEqual(expected(head));
          const reader = new HeadReader();
          let result: HeadResult = 'more';
          let at = 0;
          for (const cut of [...cuts.map((c) => c % whole.length), whole.length].sort((a, b) => a - b)) {
            if (cut <= at) continue;
            result = reader.read(whole, at, cut);
            if (result !== 'more') break;
            at = cut;
          }
          expect(actual(result)).toEqual(expected(head));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

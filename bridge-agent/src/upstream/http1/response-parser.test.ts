import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BridgeHttpError, HEAD_LIMIT, ResponseParser } from './response-parser.js';

type Seen = {
  status?: number;
  headers?: Record<string, unknown>;
  body: Buffer[];
  ended: number;
  error?: BridgeHttpError;
  parser: ResponseParser;
};

/** Feeds `bytes` to a new parser in the pieces `cuts` makes; `pauseEvery`: onData asks to pause. */
function parse(bytes: Buffer | string, cuts: number[] = [], pauseEvery = false): Seen {
  const seen = { body: [], ended: 0 } as unknown as Seen;
  const parser = new ResponseParser({
    onHead: (status, headers) => {
      seen.status = status;
      seen.headers = headers;
    },
    onData: (chunk) => {
      // Copied: a view must stay valid, but the test wants to see it after the fact.
      seen.body.push(Buffer.from(chunk));
      return !pauseEvery;
    },
    onEnd: () => {
      seen.ended++;
    },
    onError: (error) => {
      seen.error = error;
    },
  });
  seen.parser = parser;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
  let from = 0;
  for (const cut of [
    ...cuts.filter((c) => c > 0 && c < buffer.length).sort((a, b) => a - b),
    buffer.length,
  ]) {
    parser.feed(buffer.subarray(from, cut));
    from = cut;
    while (parser.paused) parser.resume();
  }
  return seen;
}

const body = (seen: Seen): string => Buffer.concat(seen.body).toString('latin1');

const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
  '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n';

describe('response parser', () => {
  it('reads a chunked answer, its extensions and trailers, and keeps the connection', () => {
    const seen = parse(CHUNKED);
    expect(seen.status).toBe(200);
    expect(seen.headers?.['content-type']).toBe('text/event-stream');
    expect(body(seen)).toBe('hello, world');
    expect(seen.ended).toBe(1);
    expect(seen.error).toBeUndefined();
    expect(seen.parser.keepAlive).toBe(true);
    expect(seen.parser.surplus).toBe(false);
  });

  it('hands out chunk data as views of the read, never copies', () => {
    const views: Buffer[] = [];
    const bytes = Buffer.from(CHUNKED, 'latin1');
    new ResponseParser({
      onHead: () => {},
      onData: (chunk) => views.push(chunk) > 0,
      onEnd: () => {},
      onError: () => {},
    }).feed(bytes);
    expect(views.map((v) => v.buffer === bytes.buffer)).toEqual([true, true]);
  });

  it('gives the same answer however the bytes are split, and with a pause after every chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(CHUNKED.length), { maxLength: 12 }), fc.boolean(), (cuts, pause) => {
        const seen = parse(CHUNKED, cuts, pause);
        expect(body(seen)).toBe('hello, world');
        expect(seen.ended).toBe(1);
        expect(seen.error).toBeUndefined();
      }),
    );
  });

  it('reads content-length bodies, and marks bytes after the end as surplus', () => {
    const seen = parse('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcEXTRA');
    expect(body(seen)).toBe('abc');
    expect(seen.ended).toBe(1);
    expect(seen.parser.surplus).toBe(true);
  });

  it('ends 204 and content-length 0 with their head', () => {
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n').ended).toBe(1);
    expect(parse('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n').ended).toBe(1);
  });

  it('reads a body without length to the close, and never reuses that connection', () => {
    const seen = parse('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"a":1}');
    expect(seen.ended).toBe(0);
    seen.parser.eof();
    expect(body(seen)).toBe('{"a":1}');
    expect(seen.ended).toBe(1);
    expect(seen.parser.keepAlive).toBe(false);
  });

  it('answers of HTTP/1.0 and with Connection: close are read but not kept', () => {
    const old = parse('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok');
    expect([body(old), old.parser.keepAlive]).toEqual(['ok', false]);
    const close = parse('HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\ncontent-length: 2\r\n\r\nok');
    expect([body(close), close.parser.keepAlive]).toEqual(['ok', false]);
    // chunked is HTTP/1.1's: an HTTP/1.0 answer claiming it is read to the close.
    const old10 = parse('HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n');
    old10.parser.eof();
    expect(body(old10)).toBe('2\r\nok\r\n');
  });

  it('skips informational answers before the real head', () => {
    const seen = parse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nlink: x\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx',
    );
    expect([seen.status, body(seen), seen.ended]).toEqual([200, 'x', 1]);
  });

  it('a length beside chunked: the encoding wins and the connection is not reused', () => {
    const seen = parse(
      'HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
    );
    expect([body(seen), seen.ended, seen.parser.keepAlive]).toEqual(['x', 1, false]);
  });

  it.each([
    ['a garbage status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a status out of range', 'HTTP/1.1 099 x\r\n\r\n'],
    ['not HTTP at all', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['a header name with a space', 'HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n'],
    ['a folded header', 'HTTP/1.1 200 OK\r\na: b\r\n  c\r\n\r\n'],
    ['a control character in a value', 'HTTP/1.1 200 OK\r\na: b\x01c\r\n\r\n'],
    ['a bare LF inside the head', 'HTTP/1.1 200 OK\r\na: b\nc: d\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n'],
    ['a negative length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'],
    ['a protocol switch', 'HTTP/1.1 101 Switching\r\n\r\n'],
    ['a chunk size that is not hex', `${CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4)}zz\r\n`],
    ['a chunk size too large', `${CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4)}1000000000000\r\n`],
    ['a chunk longer than its size', `${CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4)}1\r\nxy\r\n`],
    ['a chunk-size line without CRLF', `${CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4)}1\nx\r\n`],
  ])('%s is a BRIDGE_BAD_HTTP error, once, with nothing after it', (_name, text) => {
    const seen = parse(text);
    expect(seen.error?.code).toBe('BRIDGE_BAD_HTTP');
    expect(seen.ended).toBe(0);
    expect(seen.parser.keepAlive).toBe(false);
    seen.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
    seen.parser.eof();
    expect(seen.ended).toBe(0);
  });

  it('caps the head, the chunk-size line and the trailers however slowly they come', () => {
    const bigHead = parse(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(HEAD_LIMIT)}`, [10, 20, 5000]);
    expect(bigHead.error?.message).toMatch(/head too large/);
    const start = CHUNKED.slice(0, CHUNKED.indexOf('\r\n\r\n') + 4);
    const longLine = parse(`${start}1;${'e'.repeat(5000)}`);
    expect(longLine.error?.message).toMatch(/chunk-size line too long/);
    const trailers = parse(`${start}0\r\n${'t: x\r\n'.repeat(HEAD_LIMIT / 4)}`);
    expect(trailers.error?.message).toMatch(/trailers too large/);
  });

  it('a close before the head or mid-body is BRIDGE_CLOSED', () => {
    const before = parse('HTTP/1.1 200');
    before.parser.eof();
    expect(before.error?.code).toBe('BRIDGE_CLOSED');
    const mid = parse(`${CHUNKED.slice(0, CHUNKED.indexOf('hello') + 2)}`);
    mid.parser.eof();
    expect([mid.error?.code, body(mid)]).toEqual(['BRIDGE_CLOSED', 'he']);
  });

  it('hostile bytes split anywhere: never throws, settles at most once, holds at most the caps', () => {
    const heads = [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n',
      'HTTP/1.0 200 OK\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\n',
      '',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...heads),
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(500), { maxLength: 8 }),
        fc.boolean(),
        (head, noise, cuts, pause) => {
          const bytes = Buffer.concat([Buffer.from(head, 'latin1'), noise]);
          const seen = parse(bytes, cuts, pause);
          seen.parser.eof();
          expect(seen.ended + (seen.error ? 1 : 0)).toBe(1);
          expect(Buffer.concat(seen.body).length).toBeLessThanOrEqual(bytes.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});

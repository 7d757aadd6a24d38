import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentCounter } from './content-counter.js';
import { codePoints } from './estimate.js';

/** Events as LMArenaBridge writes them (Python spacing), then its stop chunk and `[DONE]`. */
function bridgeStream(pieces: string[]): Buffer {
  const head =
    'data: {"id": "chatcmpl-1b2c", "object": "chat.completion.chunk", "created": 1795663374, "model": "gpt-5", "choices": [{"index": 0, "delta": ';
  const events = pieces.map((p) => `${head}{"content": ${JSON.stringify(p)}}, "finish_reason": null}]}\n\n`);
  return Buffer.from(`${events.join('')}${head}{}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n`);
}

function count(chunks: Buffer[]): number {
  const counter = new ContentCounter();
  for (const chunk of chunks) counter.scan(chunk);
  return counter.chars;
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

describe('ContentCounter', () => {
  it('counts code points of the content deltas, escapes and multi-byte text included', () => {
    const pieces = ['Hello!', ' 你好，世界。', ' "quoted"', ' a\nnewline.', ' 😀', '\u0001\\'];
    expect(count([bridgeStream(pieces)])).toBe(codePoints(pieces.join('')));
  });

  it('gives the same count however the bytes are cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 12 }),
            fc.string({ unit: 'binary', maxLength: 12 }),
          ),
          { maxLength: 8 },
        ),
        fc.array(fc.nat(), { maxLength: 12 }),
        (pieces, offsets) => {
          const bytes = bridgeStream(pieces);
          expect(count(cut(bytes, offsets))).toBe(codePoints(pieces.join('')));
        },
      ),
    );
  });

  it('counts right when events change their envelope (time, shape) and however they are cut (property)', () => {
    const event = fc.record({
      created: fc.constantFrom(1795663374, 1795663375, 99),
      text: fc.string({ unit: 'grapheme', maxLength: 8 }),
      shape: fc.constantFrom('delta', 'two-choices', 'role', 'null'),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (events, offsets) => {
          let expected = 0;
          const sse = events
            .map(({ created, text, shape }) => {
              const head = `data: {"id": "chatcmpl-x", "created": ${created}, "choices": [`;
              const delta = (t: string) => `{"index": 0, "delta": {"content": ${JSON.stringify(t)}}}`;
              expected += codePoints(text) * (shape === 'two-choices' ? 2 : shape === 'null' ? 0 : 1);
              if (shape === 'two-choices') return `${head}${delta(text)}, ${delta(text)}]}\n\n`;
              if (shape === 'role')
                return `${head}{"delta": {"role": "assistant", "content": ${JSON.stringify(text)}}}]}\n\n`;
              if (shape === 'null') return `${head}{"delta": {"content": null}}]}\n\n`;
              return `${head}${delta(text)}]}\n\n`;
            })
            .join('');
          expect(count(cut(Buffer.from(`${sse}data: [DONE]\n\n`), offsets))).toBe(expected);
        },
      ),
    );
  });

  it('counts byte by byte too (every key and escape split)', () => {
    const bytes = bridgeStream(['a"b\\c', '\u00e9\u4e16', '\ud83d\ude00', 'x']);
    const oneByOne = [...bytes].map((b) => Buffer.from([b]));
    expect(count(oneByOne)).toBe(codePoints('a"b\\c\u00e9\u4e16\ud83d\ude00x'));
  });

  it('reads compact JSON and \\u escapes, and ignores null content and look-alike keys', () => {
    const text =
      'data: {"choices":[{"delta":{"content":"h\\u00e9\\ud83d\\ude00"}}]}\n\n' +
      'data: {"choices":[{"delta":{"role":"assistant","content":null}}]}\n\n' +
      'data: {"choices":[{"delta":{"reasoning_content":"skip","content":"ok"}}]}\n\n';
    expect(count([Buffer.from(text)])).toBe(3 + 2);
  });

  it('does not take model text that mentions "content": for a key', () => {
    expect(count([bridgeStream(['say "content": "x"'])])).toBe(codePoints('say "content": "x"'));
  });
});

/** JSON text as Python's `json.dumps` writes it by default: every non-ASCII unit as `\uXXXX`. */
const asciiJson = (text: string) =>
  JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

describe('ContentCounter on a long answer at LMArena’s pace', () => {
  /** 8 000 events (400 s at 20 a second), `created` ticking every 20, text of every kind. */
  function longAnswer(): { events: Buffer[]; pieces: string[] } {
    const texts = [
      'The relay',
      ' 你好，世界',
      ' "quoted" \\ back',
      '\ttab\nline',
      ' 😀👍🏽',
      '\u0001\u001f',
      ' é',
    ];
    const pieces: string[] = [];
    const events: Buffer[] = [];
    for (let i = 0; i < 8_000; i++) {
      const piece = `${texts[i % texts.length]}${i % 13 === 0 ? '' : String(i)}`;
      pieces.push(piece);
      const created = 1795663374 + Math.floor(i / 20);
      // Python spacing, with now and then a compact event from another writer.
      const event =
        i % 97 === 0
          ? `data: ${JSON.stringify({ id: 'chatcmpl-x', created, choices: [{ index: 0, delta: { content: piece } }] })}\n\n`
          : `data: {"id": "chatcmpl-1b2c", "object": "chat.completion.chunk", "created": ${created}, "model": "gpt-5", "choices": [{"index": 0, "delta": {"content": ${i % 11 === 0 ? asciiJson(piece) : JSON.stringify(piece)}}, "finish_reason": null}]}\n\n`;
      events.push(Buffer.from(event));
    }
    return { events, pieces };
  }

  /** What parsing every event once, at the end, would count. */
  function parsedAtTheEnd(events: Buffer[]): number {
    let chars = 0;
    for (const line of Buffer.concat(events).toString('utf8').split('\n')) {
      if (!line.startsWith('data: {')) continue;
      const content = (JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .choices[0]?.delta.content;
      if (typeof content === 'string') chars += codePoints(content);
    }
    return chars;
  }

  it('gives the same estimate as a parse of every event at the end, one event per chunk or cut anywhere', () => {
    const { events, pieces } = longAnswer();
    const expected = parsedAtTheEnd(events);
    expect(expected).toBe(codePoints(pieces.join('')));
    expect(count(events)).toBe(expected);
    // The same bytes cut at pseudo-random places (a deterministic LCG), 1 to 600 bytes apart.
    const bytes = Buffer.concat(events);
    const offsets: number[] = [];
    for (let at = 0, seed = 7; at < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      at += 1 + (seed % 600);
      offsets.push(at);
    }
    expect(count(cut(bytes, offsets))).toBe(expected);
  });
});

/**
 * What a hostile agent's answer costs the readers that translate it: each byte is scanned O(1)
 * times (figures measured, bounds generous for a shared 2-core box, far below what the old
 * quadratic readers took), and what they hold has a cap, past which they throw a RelayError.
 */
import { describe, expect, it } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { SSE_LINE_LIMIT, TOOL_CALL_LIMIT } from './answer-limits.js';
import { ChatStreamReader } from './bridge-answer.js';
import type { ToolRequest, ToolSpec } from './tool-prompt.js';
import { parseToolReply, ToolReplyStream } from './tool-reply.js';
import { argumentsMatch } from './tool-schema.js';

const FRAME = 4096;

const timed = <T>(run: () => T): { ms: number; value: T } => {
  const start = performance.now();
  const value = run();
  return { ms: performance.now() - start, value };
};

const thrown = (run: () => void): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('ChatStreamReader', () => {
  it('reads 8 MB of lines in 4 KB frames once, with events and characters cut anywhere', () => {
    const event = (i: number) => `data: {"choices":[{"delta":{"content":"été ${i} 😀"}}]}\n\n`;
    const body = Buffer.from(Array.from({ length: 130_000 }, (_, i) => event(i)).join(''));
    const reader = new ChatStreamReader();
    let count = 0;
    const { ms } = timed(() => {
      for (let at = 0; at < body.length; at += FRAME - 7) {
        reader.push(body.subarray(at, at + FRAME - 7), () => count++);
      }
      reader.end(() => count++);
    });
    expect(count).toBe(130_000);
    expect(ms).toBeLessThan(3000);
  });

  it('a line without a newline: refused past SSE_LINE_LIMIT, after one pass over what it held', () => {
    // The old reader re-joined and re-scanned the held line per frame: 8 MB took 5 s there.
    const reader = new ChatStreamReader();
    const frame = Buffer.from(`data: ${'x'.repeat(FRAME - 6)}`).subarray(0, FRAME);
    const junk = Buffer.alloc(FRAME, 'x');
    let pushed = 0;
    const { ms, value } = timed(() =>
      thrown(() => {
        reader.push(frame, () => {});
        for (pushed = FRAME; pushed < 3 * SSE_LINE_LIMIT; pushed += FRAME) reader.push(junk, () => {});
      }),
    );
    expect(value).toBeInstanceOf(RelayError);
    expect((value as RelayError).code).toBe('upstream_error');
    expect((value as RelayError).message).toMatch(/too large: an event line over/);
    expect(pushed).toBeLessThanOrEqual(SSE_LINE_LIMIT + FRAME);
    expect(ms).toBeLessThan(1500);
  });
});

const echo: ToolSpec = {
  name: 'echo',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};
const request: ToolRequest = { tools: [echo], choice: { mode: 'auto' }, parallel: true };

describe('ToolReplyStream', () => {
  it('plain text streams at once and is searched once (64 MB in 4 KB deltas)', () => {
    const reader = new ToolReplyStream(request);
    const delta = 'a<tool_ca'.padStart(FRAME, 'x');
    let released = 0;
    const { ms } = timed(() => {
      for (let i = 0; i < (64 * 1024 * 1024) / FRAME; i++) released += reader.push(delta).length;
      released += reader.end().text.length;
    });
    expect(released).toBe(64 * 1024 * 1024);
    expect(ms).toBeLessThan(3000);
  });

  it('a reply held after <tool_call> is refused past TOOL_CALL_LIMIT', () => {
    const reader = new ToolReplyStream(request);
    expect(reader.push('Sure. <tool_call>{"name": "echo", "arguments": {"text": "')).toBe('Sure. ');
    const delta = 'y'.repeat(FRAME);
    let pushed = 0;
    const error = thrown(() => {
      for (; pushed < 2 * TOOL_CALL_LIMIT; pushed += FRAME) reader.push(delta);
    });
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).message).toMatch(/too large: a tool call over/);
    expect(pushed).toBeLessThanOrEqual(TOOL_CALL_LIMIT);
  });

  it('a held call just under the cap still parses, once', () => {
    const reader = new ToolReplyStream(request);
    const text = 'z'.repeat(TOOL_CALL_LIMIT - 200);
    reader.push('<tool_call>{"name": "echo", "arguments": {"text": "');
    for (let at = 0; at < text.length; at += FRAME) reader.push(text.slice(at, at + FRAME));
    reader.push('"}}</tool_call>');
    const { ms, value } = timed(() => reader.end());
    expect(value.calls).toHaveLength(1);
    expect((value.calls[0]!.arguments.text as string).length).toBe(text.length);
    expect(ms).toBeLessThan(1000);
  });
});

describe('parseToolReply on hostile blocks', () => {
  it('a block of 1 MB of whitespace runs is read in linear time (the fence strip was quadratic)', () => {
    // `/\s*```$/` on 50 000 spaces took 2.4 s; on a million, hours.
    const block = `<tool_call>{${' '.repeat(1_000_000)}x</tool_call>`;
    const { ms, value } = timed(() => parseToolReply(block, [echo]));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(500);
  });

  it('a fenced block still parses', () => {
    const block = '<tool_call>```json\n{"name": "echo", "arguments": {"text": "hi"}}\n```</tool_call>';
    expect(parseToolReply(block, [echo])?.calls).toEqual([{ name: 'echo', arguments: { text: 'hi' } }]);
  });
});

describe('argumentsMatch enum', () => {
  const entries = Array.from({ length: 5000 }, (_, i) => `value-${i}`);
  const schema = { type: 'object', properties: { v: { enum: entries } } };

  it('5 000 entries against a 1 MB argument: no work per entry × value size', () => {
    // The old check serialised the value once per entry: 2 000 × 1 MB froze the loop 2.9 s.
    for (const v of ['s'.repeat(1_000_000), { big: 's'.repeat(1_000_000) }, ['s'.repeat(1_000_000)]]) {
      const { ms, value } = timed(() => argumentsMatch({ v }, schema));
      expect(value).toBe(false);
      expect(ms).toBeLessThan(200);
    }
  });

  it('object entries against a 1 MB object: the value is serialised once', () => {
    const objects = Array.from({ length: 2000 }, (_, i) => ({ k: i }));
    const big = { k: 's'.repeat(1_000_000) };
    const { ms, value } = timed(() =>
      argumentsMatch({ v: big }, { properties: { v: { enum: [...objects, big] } } }),
    );
    expect(value).toBe(true);
    expect(ms).toBeLessThan(200);
  });

  it('still tells members from non-members, by JSON value', () => {
    const s = { properties: { v: { enum: ['a', 1, null, true, [1, 2], { x: 1 }] } } };
    for (const v of ['a', 1, null, true, [1, 2], { x: 1 }])
      expect(argumentsMatch({ v }, s), JSON.stringify(v)).toBe(true);
    for (const v of ['b', 2, false, '1', [2, 1], { x: 2 }, [{ x: 1 }], {}]) {
      expect(argumentsMatch({ v }, s), JSON.stringify(v)).toBe(false);
    }
  });
});

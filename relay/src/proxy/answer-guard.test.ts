/** The answer guard: failures inside 200s become stream failures before the first byte; content flows. */
import { describe, expect, it } from 'vitest';
import type { StreamFailure, StreamHandlers } from '../tunnel/stream.js';
import { AnswerGuard, GUARD_HOLD_BYTES } from './answer-guard.js';
import { errorFailure } from './answer-verdict.js';

function harness() {
  const seen = {
    heads: [] as number[],
    data: [] as Buffer[],
    ended: false,
    failure: undefined as StreamFailure | undefined,
    cancelled: [] as string[],
    granted: 0,
  };
  const inner: StreamHandlers = {
    onHead: (status) => seen.heads.push(status),
    onData: (payload) => seen.data.push(payload),
    onEnd: () => {
      seen.ended = true;
    },
    onFailure: (failure) => {
      seen.failure = failure;
    },
  };
  const guard = new AnswerGuard(inner, () => ({
    cancel: (reason) => seen.cancelled.push(reason),
    grant: (bytes) => {
      seen.granted += bytes;
    },
  }));
  const text = () => Buffer.concat(seen.data).toString('utf8');
  return { guard, seen, text };
}

const SSE = { 'content-type': 'text/event-stream; charset=utf-8' };
const JSON_TYPE = { 'content-type': 'application/json' };
const KEEP_ALIVE = ': keep-alive\n\n';
const chunk = (delta: object, finish: string | null = null) =>
  `data: {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": ${JSON.stringify(delta)}, "finish_reason": ${JSON.stringify(finish)}}]}\n\n`;
/** Feeds `text` one byte at a time: verdicts must not depend on how the bytes are cut. */
const byteByByte = (guard: AnswerGuard, text: string) => {
  for (const byte of Buffer.from(text)) guard.onData(Buffer.from([byte]));
};

describe('AnswerGuard, streamed', () => {
  it.each([
    [
      'CloudWaddie 429',
      `${KEEP_ALIVE.repeat(10)}data: {"error": {"message": "Too Many Requests (429) from upstream. Retries exhausted.", "type": "rate_limit_error", "code": 429}}\n\ndata: [DONE]\n\n`,
      { code: 'upstream_unavailable', status: 429, scope: 'bridge' },
    ],
    [
      'CloudWaddie empty answer',
      `${KEEP_ALIVE.repeat(3)}data: {"error": {"message": "Upstream failure: The request produced no content", "type": "upstream_error", "code": 502}}\n\ndata: [DONE]\n\n`,
      { code: 'upstream_error', status: 502, scope: 'model' },
    ],
    ['[DONE] alone', `${KEEP_ALIVE}data: [DONE]\n\n`, { code: 'upstream_error', status: 502 }],
    ['v2.7.6 bare stop', `${chunk({}, 'stop')}data: [DONE]\n\n`, { code: 'upstream_error', status: 502 }],
    [
      'role chunk, stop, [DONE]',
      `${chunk({ role: 'assistant', content: '' })}${chunk({}, 'stop')}data: [DONE]\n\n`,
      { code: 'upstream_error' },
    ],
    [
      'v2.7.6 in-band error as the first content',
      `${chunk({ content: '\n\n[LMArena Bridge Error]: 网络响应不正常。状态: 403.' })}${chunk({}, 'stop')}data: [DONE]\n\n`,
      { code: 'upstream_error', message: expect.stringContaining('403') },
    ],
    [
      'WebAI2API busy, CRLF',
      ':keepalive\r\n\r\ndata: {"error":{"message":"busy","type":"server_error","code":"SERVER_BUSY"}}\r\n\r\ndata: [DONE]\r\n\r\n',
      { code: 'upstream_unavailable', status: 429 },
    ],
  ])('%s: a failure, nothing goes through, the stream is cancelled', (_name, body, expected) => {
    for (const feed of ['whole', 'bytes'] as const) {
      const { guard, seen } = harness();
      guard.onHead(200, SSE);
      if (feed === 'whole') guard.onData(Buffer.from(body));
      else byteByByte(guard, body);
      guard.onEnd();
      expect(seen.failure).toMatchObject(expected);
      expect(seen.heads).toEqual([]);
      expect(seen.data).toEqual([]);
      expect(seen.ended).toBe(false);
      expect(seen.cancelled).toHaveLength(1);
    }
  });

  it('comments alone then the end: a failure; their credit went straight back', () => {
    const { guard, seen } = harness();
    guard.onHead(200, SSE);
    for (let i = 0; i < 5; i++) guard.onData(Buffer.from(KEEP_ALIVE));
    expect(seen.granted).toBe(5 * KEEP_ALIVE.length);
    guard.onEnd();
    expect(seen.failure).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('no content'),
    });
  });

  it('content: the head and the held events go through at once, then every payload untouched', () => {
    const { guard, seen, text } = harness();
    guard.onHead(200, SSE);
    guard.onData(Buffer.from(KEEP_ALIVE + chunk({ role: 'assistant', content: '' })));
    expect(seen.heads).toEqual([]);
    byteByByte(guard, chunk({ reasoning_content: 'hmm' }));
    expect(seen.heads).toEqual([200]);
    expect(text()).toBe(chunk({ role: 'assistant', content: '' }) + chunk({ reasoning_content: 'hmm' }));
    const later = Buffer.from(`${chunk({}, 'stop')}data: [DONE]\n\n`);
    guard.onData(later);
    expect(seen.data.at(-1)).toBe(later);
    guard.onEnd();
    expect(seen.ended).toBe(true);
    expect(seen.failure).toBeUndefined();
  });

  it('works detached from the object, as the cross-relay path holds handlers (cluster/remote-agent.ts)', () => {
    const { guard, seen, text } = harness();
    const { onHead, onData, onEnd } = guard;
    onHead(200, SSE);
    onData(Buffer.from(KEEP_ALIVE + chunk({ content: 'Hi' })));
    onEnd();
    expect(text()).toBe(chunk({ content: 'Hi' }));
    expect(seen.ended).toBe(true);
  });

  it('an error after content is content (the answer is under way): it passes untouched', () => {
    const { guard, seen, text } = harness();
    guard.onHead(200, SSE);
    const body = `${chunk({ content: 'Hi' })}data: {"error": {"message": "late"}}\n\ndata: [DONE]\n\n`;
    guard.onData(Buffer.from(body));
    guard.onEnd();
    expect(text()).toBe(body);
    expect(seen.failure).toBeUndefined();
  });

  it('events that are not JSON, or tool calls, count as content', () => {
    for (const event of ['data: hi\n\n', chunk({ tool_calls: [{ index: 0, id: 't' }] })]) {
      const { guard, seen } = harness();
      guard.onHead(200, SSE);
      guard.onData(Buffer.from(event));
      expect(seen.heads).toEqual([200]);
    }
  });

  it('hostile: a megabyte of comments stays bounded; an endless event is let go at the hold limit', () => {
    const { guard, seen } = harness();
    guard.onHead(200, SSE);
    const comments = Buffer.from(KEEP_ALIVE.repeat(1024));
    for (let i = 0; i < 64; i++) guard.onData(comments);
    expect(seen.granted).toBe(64 * comments.length);
    expect(seen.heads).toEqual([]);
    const long = Buffer.from(`data: ${'x'.repeat(1024)}`);
    for (let i = 0; i * 1024 <= GUARD_HOLD_BYTES; i++) guard.onData(long);
    expect(seen.heads).toEqual([200]);
    expect(Buffer.concat(seen.data).length).toBeGreaterThan(GUARD_HOLD_BYTES);
  });

  it('hostile: an endless error event fails at the hold limit without waiting for its end', () => {
    const { guard, seen } = harness();
    guard.onHead(200, SSE);
    guard.onData(Buffer.from(`data: {"error": {"message": "${'y'.repeat(GUARD_HOLD_BYTES)}`));
    expect(seen.failure).toMatchObject({ code: 'upstream_error' });
    expect(seen.heads).toEqual([]);
  });
});

describe('AnswerGuard, not streamed', () => {
  it.each([
    [
      'CloudWaddie http_403',
      '{"error":{"message":"Forbidden: Access to this resource is denied.","type":"forbidden_error","code":"http_403"}}',
      { code: 'upstream_unavailable', status: 403, scope: 'bridge' },
    ],
    [
      'CloudWaddie lmarena_error',
      '{"error":{"message":"LMArena API error: Model is currently unavailable.","type":"upstream_error","code":"lmarena_error"}}',
      { code: 'upstream_error', status: 502, scope: 'model' },
    ],
    ['empty body', '', { code: 'upstream_error', message: expect.stringContaining('empty body') }],
    ['no choices', '{"choices": []}', { code: 'upstream_error' }],
    [
      'an empty message',
      '{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}',
      { code: 'upstream_error' },
    ],
  ])('%s: a failure', (_name, body, expected) => {
    const { guard, seen } = harness();
    guard.onHead(200, JSON_TYPE);
    byteByByte(guard, body);
    guard.onEnd();
    expect(seen.failure).toMatchObject(expected);
    expect(seen.heads).toEqual([]);
  });

  it('an answer goes through whole at its end; a large one as soon as it passes the hold limit', () => {
    const { guard, seen, text } = harness();
    guard.onHead(200, JSON_TYPE);
    const body =
      '{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}';
    guard.onData(Buffer.from(body));
    expect(seen.heads).toEqual([]);
    guard.onEnd();
    expect(seen.heads).toEqual([200]);
    expect(text()).toBe(body);
    expect(seen.ended).toBe(true);

    const big = harness();
    big.guard.onHead(200, JSON_TYPE);
    big.guard.onData(Buffer.from(`{"choices":[{"message":{"content":"${'z'.repeat(GUARD_HOLD_BYTES)}`));
    expect(big.seen.heads).toEqual([200]);
  });

  it('other statuses and types pass at once (the agent already judged them)', () => {
    for (const [status, headers] of [
      [400, JSON_TYPE],
      [200, { 'content-type': 'image/png' }],
    ] as const) {
      const { guard, seen } = harness();
      guard.onHead(status, headers);
      expect(seen.heads).toEqual([status]);
      guard.onData(Buffer.from(''));
      guard.onEnd();
      expect(seen.ended).toBe(true);
    }
  });
});

describe('errorFailure', () => {
  it('reads the status from a number, an http_NNN code or a named code; unknown is the model’s 502', () => {
    expect(errorFailure({ message: 'x', code: 401 })).toMatchObject({
      code: 'upstream_unavailable',
      status: 401,
    });
    expect(errorFailure({ message: 'x', code: 'http_429' })).toMatchObject({ status: 429, scope: 'bridge' });
    expect(errorFailure({ code: 'BROWSER_NOT_INITIALIZED' })).toMatchObject({ status: 503 });
    expect(errorFailure({ message: 'x', code: 'Unexpected' })).toMatchObject({
      code: 'upstream_error',
      status: 502,
    });
    expect(errorFailure({ message: 'x', code: 99_999 })).toMatchObject({
      code: 'upstream_error',
      status: 502,
    });
    expect(errorFailure('plain')).toMatchObject({ message: expect.stringContaining('plain') });
    expect(errorFailure({ message: 'é'.repeat(20_000) }).message.length).toBeLessThanOrEqual(8192);
  });
});

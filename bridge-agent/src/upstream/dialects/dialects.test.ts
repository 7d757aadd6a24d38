import { describe, expect, it } from 'vitest';
import { type Recording, recording, replay } from '../../test-support/replay.js';
import { DIALECTS, type DialectName } from './index.js';

const sse = (...events: string[]): Recording => ({
  status: 200,
  headers: { 'content-type': 'text/event-stream' },
  body: Buffer.from(events.map((event) => `${event}\n\n`).join('')),
});
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Recording => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}`;

describe('lmarenabridge-v2 (v2.7.6, recorded)', () => {
  const v2 = DIALECTS['lmarenabridge-v2'];

  it('passes its recorded answers whole', () => {
    for (const name of ['stream-ok.txt', 'nonstream-ok.txt']) {
      const rec = recording('lmarenabridge', name);
      const outcome = replay(v2, rec, 9);
      expect(outcome).toMatchObject({ head: 200, ended: true });
      expect(outcome.body).toBe(rec.body.toString('utf8'));
    }
  });

  it('fails a streamed "model unavailable" (a bare stop, then [DONE]) instead of an empty 200', () => {
    const outcome = replay(v2, sse(chunk({}, 'stop'), 'data: [DONE]'));
    expect(outcome.head).toBeUndefined();
    expect(outcome.failure).toMatchObject({ code: 'upstream_error', status: 502, scope: 'model' });
    expect(outcome.failure?.message).toContain('bare stop');
  });

  it('still reads its in-band "[LMArena Bridge Error]" chunks, first or later', () => {
    const error = chunk({ content: '\n\n[LMArena Bridge Error]: 油猴脚本客户端未连接' });
    expect(replay(v2, sse(error, chunk({}, 'stop'), 'data: [DONE]')).failure).toMatchObject({
      scope: 'bridge',
      reason: 'userscript_disconnected',
    });
    const later = replay(v2, sse(chunk({ content: 'Hi' }), error, 'data: [DONE]'), 5);
    expect(later.head).toBe(200);
    expect(later.failure).toMatchObject({ reason: 'userscript_disconnected' });
  });

  it('classifies its 503s as before', () => {
    const outcome = replay(v2, json(503, { detail: '正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。' }));
    expect(outcome.failure).toMatchObject({ code: 'upstream_unavailable', reason: 'cloudflare_challenge' });
  });
});

describe('webai2api (from its documented shapes)', () => {
  const w = DIALECTS.webai2api;
  const error = (code: string, message: string) => ({ error: { message, type: 'api_error', code } });

  it.each([
    ['BROWSER_NOT_INITIALIZED', 503, 'browser_not_ready'],
    ['SERVER_BUSY', 429, 'upstream_rate_limited'],
    ['RECAPTCHA', 403, 'recaptcha_failed'],
  ])('%s (%i) takes the bridge out as %s, not as a bad key', (code, status, reason) => {
    const outcome = replay(w, json(status, error(code, `${code} happened`)));
    expect(outcome.failure).toMatchObject({ code: 'upstream_unavailable', status, scope: 'bridge', reason });
    // The same error as a `data:` event then [DONE], after `:keepalive` comments.
    const streamed = replay(
      w,
      sse(':keepalive', `data: ${JSON.stringify(error(code, 'x'))}`, 'data: [DONE]'),
      4,
    );
    expect(streamed.head).toBeUndefined();
    expect(streamed.failure).toMatchObject({ scope: 'bridge', reason });
  });

  it('answers a 401 as the key and serves content after keep-alives', () => {
    expect(replay(w, json(401, error('UNAUTHORIZED', 'bad token'))).failure).toMatchObject({
      reason: 'bridge_auth_failed',
    });
    const ok = replay(w, sse(':keepalive', ':keepalive', chunk({ content: 'Hi' }), 'data: [DONE]'), 3);
    expect(ok).toMatchObject({ head: 200, ended: true });
    expect(ok.body.startsWith('data: ')).toBe(true);
  });
});

describe('openai (Ollama, llama.cpp, vLLM, LM Studio)', () => {
  const o = DIALECTS.openai;

  it('keeps the role chunk and passes the answer on', () => {
    const outcome = replay(
      o,
      sse(
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hi' }),
        chunk({}, 'stop'),
        'data: [DONE]',
      ),
      7,
    );
    expect(outcome).toMatchObject({ head: 200, ended: true });
    expect(outcome.body).toContain('"role":"assistant"');
    expect(outcome.body).toContain('"Hi"');
  });

  it('streams CRLF events (llama-cpp-python, sse-starlette) as they come, not at the end', () => {
    const crlf = (event: string) => `${event}\r\n\r\n`;
    const rec: Recording = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: Buffer.from(crlf(': ping') + crlf(chunk({ role: 'assistant' })) + crlf(chunk({ content: 'Hi' }))),
    };
    // No [DONE] yet: the answer is judged at its first content event, not when the stream ends.
    const outcome = replay(o, rec, 5);
    expect(outcome.head).toBe(200);
    expect(outcome.body).toContain('"Hi"');
    const error = replay(
      o,
      { ...rec, body: Buffer.from(crlf(': ping') + crlf('data: {"error":{"message":"oom"}}')) },
      3,
    );
    expect(error.head).toBeUndefined();
    expect(error.failure).toMatchObject({ code: 'upstream_error', message: 'oom' });
  });

  it('fails a role chunk then a stop (an empty answer), and a stream that just ends', () => {
    expect(
      replay(o, sse(chunk({ role: 'assistant', content: '' }), chunk({}, 'stop'), 'data: [DONE]')).failure,
    ).toMatchObject({
      code: 'upstream_error',
      scope: 'model',
    });
    expect(replay(o, sse(': ping')).failure?.message).toContain('ended before any content');
    expect(replay(o, sse('data: [DONE]')).failure?.message).toContain('[DONE] before any content');
  });

  it('reads real statuses: Ollama’s 404 model, 429 with retry-after, 503 loading, 400', () => {
    expect(
      replay(o, json(404, { error: 'model "llama9" not found, try pulling it first' })).failure,
    ).toMatchObject({
      code: 'upstream_error',
      status: 404,
      scope: 'model',
      message: expect.stringContaining('llama9'),
    });
    expect(
      replay(o, json(429, { error: { message: 'slow down' } }, { 'retry-after': '3' })).failure,
    ).toMatchObject({
      scope: 'bridge',
      reason: 'upstream_rate_limited',
      retryAfterMs: 3000,
    });
    expect(replay(o, json(503, { error: { message: 'Loading model' } })).failure).toMatchObject({
      scope: 'bridge',
    });
    expect(replay(o, json(400, { error: { message: 'bad' } })).failure).toMatchObject({
      code: 'upstream_rejected',
      scope: 'request',
    });
  });

  it('fails a non-streamed 200 that is an error or empty, passes a real one', () => {
    expect(replay(o, json(200, { error: { message: 'boom' } })).failure).toMatchObject({
      code: 'upstream_error',
    });
    const empty = {
      choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
    };
    expect(replay(o, json(200, empty)).failure?.message).toContain('empty message');
    const real = {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    };
    expect(replay(o, json(200, real), 3)).toMatchObject({
      head: 200,
      body: JSON.stringify(real),
      ended: true,
    });
  });
});

describe('every dialect, attacked', () => {
  const names = Object.keys(DIALECTS) as DialectName[];

  it.each(names)('%s: a flood of keep-alives before content stays bounded and then flows', (name) => {
    const keepAlives = Array.from({ length: 20_000 }, () => ': keep-alive');
    const outcome = replay(
      DIALECTS[name],
      sse(...keepAlives, chunk({ content: 'late' }), 'data: [DONE]'),
      4096,
    );
    expect(outcome).toMatchObject({ head: 200, ended: true });
    // Nothing of the keep-alives is forwarded: the answer starts with its content.
    expect(outcome.body.startsWith('data: ')).toBe(true);
  });

  it.each(names)(
    '%s: an endless first event of junk is let through at 64 KiB, never held without bound',
    (name) => {
      const outcome = replay(DIALECTS[name], sse(`data: ${'x'.repeat(200_000)}`), 1000);
      expect(outcome.head).toBe(200);
      expect(outcome.body.length).toBeGreaterThan(190_000);
    },
  );

  it.each(names)(
    '%s: hostile error bodies (huge, control characters, non-ASCII) give a bounded message',
    (name) => {
      const message = `\u0000\u001b[31m${'é'.repeat(100_000)}`;
      const outcome = replay(
        DIALECTS[name],
        sse(`data: ${JSON.stringify({ error: { message, code: 403 } })}`),
      );
      expect(outcome.head).toBeUndefined();
      expect(outcome.failure?.message.length).toBeLessThanOrEqual(8192 + 64);
    },
  );
});

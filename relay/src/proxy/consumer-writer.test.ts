/**
 * The consumer writer alone: a fake response whose socket a test fills, a fake stream that counts
 * credit. Credit goes back in quarters of the window and never while the socket is full; heads,
 * pins, taps, and how a failure after the first byte reaches the consumer.
 */
import { describe, expect, it, vi } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { FakeResponse } from '../test-support/fake-response.js';
import { ConsumerWriter, type ConsumerWriterOptions } from './consumer-writer.js';
import type { ResponseTap } from './response-tap.js';

function setup(options: Partial<ConsumerWriterOptions> = {}) {
  const res = new FakeResponse();
  const writer = new ConsumerWriter(res.asResponse(), {
    requestId: 'req-1',
    stream: true,
    streamWindow: 1024,
    ...options,
  });
  const stream = { granted: [] as number[], grant: (bytes: number) => stream.granted.push(bytes) };
  writer.attach(stream);
  return { res, writer, stream };
}

describe('ConsumerWriter credit', () => {
  it('holds credit back until a quarter of the window has left, then returns all of it', () => {
    const { writer, stream } = setup();
    writer.head(200, {}, undefined);
    writer.data(Buffer.alloc(255));
    expect(stream.granted).toEqual([]);
    writer.data(Buffer.alloc(1));
    expect(stream.granted).toEqual([256]);
    writer.data(Buffer.alloc(700));
    expect(stream.granted).toEqual([256, 700]);
    expect(writer.bytes).toBe(956);
  });

  it('grants nothing while the consumer socket is full, and everything it held on drain', () => {
    const { res, writer, stream } = setup();
    writer.head(200, {}, undefined);
    res.full = true;
    writer.data(Buffer.alloc(100));
    writer.data(Buffer.alloc(500));
    // Past the threshold, but the bytes have not left the relay: the agent must stay paused.
    writer.data(Buffer.alloc(300));
    expect(stream.granted).toEqual([]);
    expect(res.listenerCount('drain')).toBe(1);
    res.full = false;
    writer.data(Buffer.alloc(10)); // accepted, but still waiting for the earlier drain
    expect(stream.granted).toEqual([]);
    res.emit('drain');
    expect(stream.granted).toEqual([910]);
    expect(res.listenerCount('drain')).toBe(0);
    res.emit('drain'); // a drain with nothing owed grants nothing
    expect(stream.granted).toEqual([910]);
  });

  it('a restarted attempt owes the new stream nothing of what the failed one sent', () => {
    const { writer, stream } = setup();
    writer.data(Buffer.alloc(200));
    writer.restart();
    expect(writer.bytes).toBe(0);
    const next = { granted: [] as number[], grant: (bytes: number) => next.granted.push(bytes) };
    writer.attach(next);
    writer.data(Buffer.alloc(100));
    expect(next.granted).toEqual([]);
    writer.data(Buffer.alloc(156));
    expect(next.granted).toEqual([256]);
    expect(stream.granted).toEqual([]);
  });
});

describe('ConsumerWriter answers', () => {
  it('writes the head with the session pin and times the first byte once', () => {
    const firstBytes: number[] = [];
    const { res, writer } = setup({ onFirstByte: (at) => firstBytes.push(at) });
    writer.head(200, { 'content-type': 'text/event-stream' }, 'kept');
    expect(writer.committed).toBe(true);
    expect(res.headers).toMatchObject({ 'x-session-pin': 'kept', 'x-request-id': 'req-1' });
    writer.data(Buffer.from('data: a\n\n'));
    writer.data(Buffer.from('data: b\n\n'));
    expect(firstBytes).toHaveLength(1);
    expect(writer.firstByteAt).toBe(firstBytes[0]);
    expect(writer.end()).toBe('ok');
    expect(res.body).toBe('data: a\n\ndata: b\n\n');
    expect(res.ended).toBe(true);
  });

  it('a tap that holds the head back leaves the answer uncommitted, and its error code is the outcome', () => {
    const seen: string[] = [];
    const tap: ResponseTap = {
      head: () => {},
      write: (_res, payload) => {
        seen.push(payload.toString());
        return true;
      },
      end: (res) => {
        res.writeHead(502, {});
        return 'upstream_error';
      },
    };
    const { res, writer } = setup({ tap, stream: false });
    writer.head(200, {}, undefined);
    writer.data(Buffer.from('{"partial"'));
    expect(writer.committed).toBe(false);
    expect(seen).toEqual(['{"partial"']);
    expect(writer.end()).toBe('upstream_error');
    expect(writer.status).toBe(502);
    expect(res.ended).toBe(true);
  });

  it('a failure after the first byte: an SSE error event for a stream, a cut socket for JSON', () => {
    const error = new RelayError('agent_unavailable', 'bridge agent failed: gone');
    const sse = setup();
    sse.writer.head(200, {}, undefined);
    sse.writer.fail(error);
    expect(sse.res.body).toMatch(/^data: \{"error":\{.*"code":"agent_unavailable"/);
    expect(sse.res.ended).toBe(true);
    const json = setup({ stream: false });
    json.writer.head(200, {}, undefined);
    json.writer.fail(error);
    expect(json.res.destroyed).toBe(true);
    expect(json.res.ended).toBe(false);
  });
});

describe('ConsumerWriter keep-alives (GATEWAY_STREAM_COMMIT=keepalive)', () => {
  it('sends the 200 and a comment after the wait, a comment per period, and stops at content', () => {
    vi.useFakeTimers();
    try {
      const { res, writer } = setup({ keepAliveMs: 15_000 });
      vi.advanceTimersByTime(14_999);
      expect(res.headersSent).toBe(false);
      vi.advanceTimersByTime(1);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      expect(res.headers['x-request-id']).toBe('req-1');
      expect(res.body).toBe(': keep-alive\n\n');
      // Comments are not content: a failure now is still retried.
      expect(writer.committed).toBe(false);
      vi.advanceTimersByTime(15_000);
      expect(res.body).toBe(': keep-alive\n\n'.repeat(2));
      // The agent's head changes nothing on the wire; its first payload commits.
      expect(writer.head(200, { 'content-type': 'text/event-stream' }, undefined)).toBeUndefined();
      expect(writer.committed).toBe(false);
      writer.data(Buffer.from('data: {"x":1}\n\n'));
      expect(writer.committed).toBe(true);
      vi.advanceTimersByTime(60_000);
      expect(res.body).toBe(`${': keep-alive\n\n'.repeat(2)}data: {"x":1}\n\n`);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an answer that starts in time never sees a keep-alive; a non-stream request never waits early', () => {
    vi.useFakeTimers();
    try {
      const prompt = setup({ keepAliveMs: 15_000 });
      prompt.writer.head(201, {}, undefined);
      vi.advanceTimersByTime(60_000);
      expect(prompt.res.status).toBe(201);
      expect(prompt.res.body).toBe('');
      const whole = setup({ keepAliveMs: 15_000, stream: false });
      vi.advanceTimersByTime(60_000);
      expect(whole.res.headersSent).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('after an early 200 a refusing head is an error to tell in the stream, and the tap opens its API', () => {
    vi.useFakeTimers();
    try {
      const opened: string[] = [];
      const tap: ResponseTap = {
        write: (res, payload) => res.write(payload),
        end: () => undefined,
        openEarly(res, headers) {
          res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8' });
          res.write('event: message_start\n\n');
          opened.push('early');
        },
      };
      const { res, writer } = setup({ keepAliveMs: 1000, tap });
      vi.advanceTimersByTime(1000);
      expect(opened).toEqual(['early']);
      expect(res.body).toBe('event: message_start\n\n: keep-alive\n\n');
      const refused = writer.head(429, {}, undefined);
      expect(refused).toBeInstanceOf(RelayError);
      expect(refused?.status).toBe(429);
      writer.fail(refused!);
      vi.advanceTimersByTime(5000);
      // The error as an OpenAI event (this tap has no `fail` of its own), then nothing more.
      expect(res.body).toMatch(
        /: keep-alive\n\ndata: \{"error":\{"message":"the bridge answered 429".*\n\n$/,
      );
      expect(res.ended).toBe(true);
      expect(res.body.match(/keep-alive/g)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

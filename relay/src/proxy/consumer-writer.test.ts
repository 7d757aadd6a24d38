/**
 * The consumer writer alone: a fake response whose socket a test fills, a fake stream that counts
 * credit. Credit goes back in quarters of the window and never while the socket is full; heads,
 * pins, taps, and how a failure after the first byte reaches the consumer.
 */
import { describe, expect, it } from 'vitest';
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

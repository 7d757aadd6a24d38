import net from 'node:net';
import type { OpenFrame } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeClient } from './bridge-client.js';
import type { UpstreamFailure } from './classify.js';
import { forward, type StreamSink } from './forward.js';

/** A bridge that writes `answer` to each request; `requests` are the heads (and bodies) it read. */
async function rawBridge(answer: string) {
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (data) => {
      requests.push(data.toString('latin1'));
      socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests, server };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A sink that records what forward() does with it. */
function recordingSink() {
  const seen = {
    head: undefined as number | undefined,
    bytes: '',
    ended: false,
    failure: undefined as UpstreamFailure | undefined,
  };
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const sink: StreamSink = {
    head: (status) => {
      seen.head = status;
    },
    write: (chunk) => {
      seen.bytes += chunk.toString();
      return true;
    },
    end: () => {
      seen.ended = true;
      settle();
    },
    fail: (failure) => {
      seen.failure = failure;
      settle();
    },
    onWritable: undefined,
    aborted: false,
    onAbort: undefined,
  };
  return { sink, seen, settled };
}

const open = {
  type: 'open',
  stream: 1,
  method: 'POST',
  path: '/v1/chat/completions',
  headers: {},
} as unknown as OpenFrame;

function client(url: string, apiKey?: string): BridgeClient {
  const created = new BridgeClient({ baseUrl: `${url}/api/v1`, connections: 2, apiKey });
  closers.push(() => created.close());
  return created;
}

describe('bridge client (own HTTP/1.1) under forward()', () => {
  it('sends the body bytes as they are, with its key and no consumer header, and relays the stream', async () => {
    const event = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n';
    const bridge = await rawBridge(
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
        `${event.length.toString(16)}\r\n${event}\r\n0\r\n\r\n`,
    );
    const { sink, seen, settled } = recordingSink();
    forward(client(bridge.url, 'k1'), open, sink, () => {}, [Buffer.from('{"model":'), Buffer.from('"m"}')]);
    await settled;
    expect(seen).toMatchObject({ head: 200, bytes: event, ended: true, failure: undefined });
    const request = bridge.requests.join('');
    expect(request).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\n/);
    expect(request).toContain('authorization: Bearer k1\r\n');
    expect(request).toContain('content-length: 13\r\n');
    expect(request.endsWith('\r\n\r\n{"model":"m"}')).toBe(true);
  });

  it('a bridge answering garbage is an upstream_error, with nothing sent before it', async () => {
    const bridge = await rawBridge('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\x00bad\r\n\r\n');
    const { sink, seen, settled } = recordingSink();
    const unavailable: UpstreamFailure[] = [];
    forward(client(bridge.url), open, sink, (f) => unavailable.push(f), Buffer.from('{}'));
    await settled;
    expect(seen.head).toBeUndefined();
    expect(seen.failure).toMatchObject({ code: 'upstream_error', status: 502 });
    expect(unavailable).toEqual([]);
  });

  it('a bridge that stops mid-chunk after content fails the stream, never a clean end', async () => {
    const event = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n';
    const bridge = await rawBridge(
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
        `${event.length.toString(16)}\r\n${event}\r\n40\r\ndata: {"cho`,
    );
    bridge.server.on('connection', (socket) => socket.on('data', () => socket.end()));
    const { sink, seen, settled } = recordingSink();
    forward(client(bridge.url), open, sink, () => {}, Buffer.from('{}'));
    await settled;
    expect(seen.ended).toBe(false);
    expect(seen.failure?.code).toBe('upstream_unavailable');
  });

  it('a key with a line break is refused before anything is sent', async () => {
    const bridge = await rawBridge('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    const { sink, seen, settled } = recordingSink();
    forward(client(bridge.url, 'k\r\nx-evil: 1'), open, sink, () => {}, Buffer.from('{}'));
    await settled;
    expect(seen.failure?.code).toBe('upstream_unavailable');
    expect(bridge.requests).toEqual([]);
  });
});

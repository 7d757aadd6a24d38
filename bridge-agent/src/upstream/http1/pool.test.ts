import net from 'node:net';
import fc from 'fast-check';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test-support/wait.js';
import { classifyNetworkError } from '../classify.js';
import { Http1Pool } from './pool.js';

/** A raw TCP "bridge": `answer` gets each request's head and the socket, and writes what it likes. */
type Bridge = { port: number; sockets: Set<net.Socket>; connections: number; close(): Promise<void> };
const bridges: Bridge[] = [];
const pools: Http1Pool[] = [];

async function bridge(answer: (socket: net.Socket, head: string) => void): Promise<Bridge> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        answer(socket, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const result: Bridge = {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  bridges.push(result);
  return result;
}

function pool(
  port: number,
  options: Partial<{ connections: number; timeoutMs: number; keepAliveMs: number }> = {},
) {
  const created = new Http1Pool({
    origin: new URL(`http://127.0.0.1:${port}`),
    connections: options.connections ?? 4,
    timeoutMs: options.timeoutMs ?? 5_000,
    keepAliveMs: options.keepAliveMs,
  });
  pools.push(created);
  return created;
}

type Outcome = {
  status?: number;
  body: string;
  error?: Error;
  ended: boolean;
  controller?: Dispatcher.DispatchController;
};

/** Sends one request; resolves with what came back once the handler had its last event. */
function send(
  client: Http1Pool,
  onData?: (controller: Dispatcher.DispatchController, chunk: Buffer, outcome: Outcome) => void,
): { outcome: Outcome; settled: Promise<Outcome> } {
  const outcome: Outcome = { body: '', ended: false };
  const settled = new Promise<Outcome>((resolve) => {
    client.dispatch(
      { head: 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n', body: ['{}'] },
      {
        onRequestStart: (controller) => {
          outcome.controller = controller;
        },
        onResponseStart: (_c, status) => {
          outcome.status = status;
        },
        onResponseData: (controller, chunk) => {
          outcome.body += chunk.toString('latin1');
          onData?.(controller, chunk, outcome);
        },
        onResponseEnd: () => {
          outcome.ended = true;
          resolve(outcome);
        },
        onResponseError: (_c, error) => {
          outcome.error = error;
          resolve(outcome);
        },
      },
    );
  });
  return { outcome, settled };
}

const SSE = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await Promise.all(bridges.splice(0).map((b) => b.close()));
});

describe('http1 pool', () => {
  it('sends the head and body pieces byte for byte, joined when small and piece by piece when large', async () => {
    for (const size of [3, 70_000]) {
      const pieces = [Buffer.from('{"a":'), 'é€'.repeat(size), Buffer.from('}')];
      const body = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
      const head = `POST /v1/x HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`;
      const received: Buffer[] = [];
      const done = new Promise<Buffer>((resolve) => {
        const server = net.createServer((socket) => {
          // The pool is destroyed after the test, maybe before this side has read its end: a reset
          // here is expected, and must not surface as an uncaught error in the worker.
          socket.on('error', () => {});
          socket.on('data', (data) => {
            received.push(data);
            const all = Buffer.concat(received);
            if (all.length < Buffer.byteLength(head) + body.length) return;
            socket.end('HTTP/1.1 204 No Content\r\n\r\n');
            server.close();
            resolve(all);
          });
        });
        server.listen(0, '127.0.0.1', () => {
          const client = pool((server.address() as net.AddressInfo).port);
          client.dispatch({ head, body: pieces }, {});
        });
      });
      expect((await done).equals(Buffer.concat([Buffer.from(head), body]))).toBe(true);
    }
  });

  it('reuses one keep-alive connection for answers one after another', async () => {
    const bridgeServer = await bridge((socket) => socket.write(`${SSE}${chunk('data: a\n\n')}0\r\n\r\n`));
    const client = pool(bridgeServer.port);
    for (let i = 0; i < 3; i++) {
      const outcome = await send(client).settled;
      expect([outcome.status, outcome.body, outcome.ended]).toEqual([200, 'data: a\n\n', true]);
    }
    expect(bridgeServer.connections).toBe(1);
  });

  it('opens at most `connections` sockets; more requests wait their turn', async () => {
    const waiting: net.Socket[] = [];
    const bridgeServer = await bridge((socket) => waiting.push(socket));
    const client = pool(bridgeServer.port, { connections: 2 });
    const sent = [send(client), send(client), send(client)];
    await waitFor(() => waiting.length === 2, 'two requests at the bridge');
    expect(client.size).toBe(2);
    for (const socket of waiting.splice(0)) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx');
    await waitFor(() => waiting.length === 1, 'the third request on a freed socket');
    waiting[0]!.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\ny');
    const outcomes = await Promise.all(sent.map((s) => s.settled));
    expect(outcomes.map((o) => o.body)).toEqual(['x', 'x', 'y']);
    expect(bridgeServer.connections).toBe(2);
  });

  it.each([
    ['Connection: close', 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx'],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx'],
    ['more bytes than the length', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n'],
  ])('%s: the answer is read, the socket is not reused', async (_name, answer) => {
    const bridgeServer = await bridge((socket) => socket.write(answer));
    const client = pool(bridgeServer.port);
    expect((await send(client).settled).body).toBe('x');
    expect((await send(client).settled).body).toBe('x');
    expect(bridgeServer.connections).toBe(2);
  });

  it('reads a body without length to the close', async () => {
    const bridgeServer = await bridge((socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"a":1}'),
    );
    const outcome = await send(pool(bridgeServer.port)).settled;
    expect([outcome.body, outcome.ended, outcome.error]).toEqual(['{"a":1}', true, undefined]);
  });

  it('a bridge that closes mid-chunk is a failure, never a clean end, and the socket is gone', async () => {
    const bridgeServer = await bridge((socket) => socket.end(`${SSE}${chunk('data: a\n\n')}20\r\ndata: cut`));
    const client = pool(bridgeServer.port);
    const outcome = await send(client).settled;
    expect(outcome.ended).toBe(false);
    expect((outcome.error as { code?: string }).code).toBe('BRIDGE_CLOSED');
    expect(classifyNetworkError(outcome.error).code).toBe('upstream_unavailable');
    await waitFor(() => client.size === 0, 'the socket closed');
  });

  it('a malformed answer is a clean upstream_error', async () => {
    const bridgeServer = await bridge((socket) => socket.write('HTTP/1.1 200 OK\r\nbad header\r\n\r\n'));
    const client = pool(bridgeServer.port);
    const outcome = await send(client).settled;
    expect(classifyNetworkError(outcome.error)).toMatchObject({ code: 'upstream_error', status: 502 });
    await waitFor(() => client.size === 0 && bridgeServer.sockets.size === 0, 'the socket closed');
  });

  it('a bridge that says nothing times out as upstream_timeout, head or body', async () => {
    const silent = await bridge(() => {});
    const head = await send(pool(silent.port, { timeoutMs: 100 })).settled;
    expect((head.error as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
    const stalled = await bridge((socket) => socket.write(`${SSE}${chunk('data: a\n\n')}`));
    const body = await send(pool(stalled.port, { timeoutMs: 100 })).settled;
    expect([body.body, (body.error as { code?: string }).code]).toEqual([
      'data: a\n\n',
      'UND_ERR_BODY_TIMEOUT',
    ]);
    expect(classifyNetworkError(body.error).code).toBe('upstream_timeout');
  });

  it('pauses the socket while the relay has no credit (no timeout meanwhile), and resumes', async () => {
    let bridgeSocket: net.Socket | undefined;
    const bridgeServer = await bridge((socket) => {
      bridgeSocket = socket;
      socket.write(`${SSE}${chunk('data: 1\n\n')}`);
    });
    const client = pool(bridgeServer.port, { timeoutMs: 100 });
    const sent = send(client, (controller, _chunk, outcome) => {
      if (outcome.body === 'data: 1\n\n') controller.pause();
    });
    await waitFor(() => sent.outcome.body === 'data: 1\n\n', 'the first chunk');
    bridgeSocket!.write(`${chunk('data: 2\n\n')}0\r\n\r\n`);
    // Not a synchronisation: three idle timeouts pass while paused for credit, and none may fire.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent.outcome.body).toBe('data: 1\n\n');
    expect(sent.outcome.error).toBeUndefined();
    sent.outcome.controller!.resume();
    const outcome = await sent.settled;
    expect([outcome.body, outcome.ended]).toEqual(['data: 1\n\ndata: 2\n\n', true]);
  });

  it('while paused it stops reading: a fast bridge is held back by TCP, not buffered in the agent', async () => {
    let bridgeSocket: net.Socket | undefined;
    const bridgeServer = await bridge((socket) => {
      bridgeSocket = socket;
      socket.write(`${SSE}${chunk('data: 1\n\n')}`);
    });
    const client = pool(bridgeServer.port);
    const sent = send(client, (controller, _chunk, outcome) => {
      if (outcome.body === 'data: 1\n\n') controller.pause();
    });
    await waitFor(() => sent.outcome.body === 'data: 1\n\n', 'the first chunk');
    const piece = chunk(`data: ${'x'.repeat(64 * 1024)}\n\n`);
    for (let i = 0; i < 128; i++) bridgeSocket!.write(piece);
    // 8 MiB written: what the kernel buffers aside, it waits in the bridge's own write queue.
    await waitFor(() => bridgeSocket!.writableLength > 4 * 1024 * 1024, 'the bridge held back');
    expect(sent.outcome.body).toBe('data: 1\n\n');
    sent.outcome.controller!.abort(new Error('done'));
    await sent.settled;
  });

  it('abort closes the socket (never reused after an unfinished body) and reports once', async () => {
    const bridgeServer = await bridge((socket, head) => {
      if (head.startsWith('POST')) socket.write(`${SSE}${chunk('data: 1\n\n')}`);
    });
    const client = pool(bridgeServer.port);
    const reason = new Error('cancelled');
    const sent = send(client, (controller) => controller.abort(reason));
    const outcome = await sent.settled;
    expect([outcome.error, outcome.ended, outcome.controller?.aborted]).toEqual([reason, false, true]);
    await waitFor(() => bridgeServer.sockets.size === 0, 'the bridge socket closed');
    expect(client.size).toBe(0);
  });

  it('an unreachable bridge fails the request with the socket error', async () => {
    const closed = await bridge(() => {});
    const port = closed.port;
    await closed.close();
    bridges.splice(0);
    const outcome = await send(pool(port)).settled;
    expect((outcome.error as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('close fails requests waiting and running, and is idempotent', async () => {
    const bridgeServer = await bridge(() => {});
    const client = pool(bridgeServer.port, { connections: 1 });
    const running = send(client);
    const queued = send(client);
    await waitFor(() => bridgeServer.sockets.size === 1, 'the request at the bridge');
    await Promise.all([client.close(), client.close()]);
    const outcomes = await Promise.all([running.settled, queued.settled]);
    expect(outcomes.every((o) => o.error !== undefined && !o.ended)).toBe(true);
    expect(client.size).toBe(0);
  });

  it('hostile answers split at random points: every request settles once, quickly, and no socket leaks', async () => {
    const valid = `${SSE}${chunk('data: a\n\n')}0\r\n\r\n`;
    const answers = fc.oneof(
      fc.constant(valid),
      fc.string({ maxLength: 300 }).map((s) => `${SSE}${s}`),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.string({ maxLength: 200 }).map((s) => `HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n${s}`),
      fc.constant(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(70_000)}\r\n\r\n`),
    );
    let plan: { answer: string; cuts: number[]; close: boolean } = { answer: valid, cuts: [], close: false };
    const bridgeServer = await bridge((socket) => {
      const bytes = Buffer.from(plan.answer, 'latin1');
      let from = 0;
      for (const cut of [...plan.cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]) {
        socket.write(bytes.subarray(from, cut));
        from = cut;
      }
      if (plan.close) socket.end();
    });
    const client = pool(bridgeServer.port, { connections: 2, timeoutMs: 200 });
    await fc.assert(
      fc.asyncProperty(
        answers,
        fc.array(fc.nat(400), { maxLength: 6 }),
        fc.boolean(),
        async (answer, cuts, close) => {
          plan = { answer, cuts, close };
          let events = 0;
          const outcome = await new Promise<Outcome>((resolve) => {
            const seen: Outcome = { body: '', ended: false };
            client.dispatch(
              { head: 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', body: [] },
              {
                onResponseData: (_c, data) => {
                  seen.body += data.toString('latin1');
                },
                onResponseEnd: () => {
                  events++;
                  seen.ended = true;
                  resolve(seen);
                },
                onResponseError: (_c, error) => {
                  events++;
                  seen.error = error;
                  resolve(seen);
                },
              },
            );
          });
          if (answer === valid) expect(outcome.ended || outcome.error !== undefined).toBe(true);
          if (outcome.ended && answer.startsWith(SSE) && answer !== valid)
            expect(answer.endsWith('\r\n')).toBe(true);
          await new Promise((resolve) => setImmediate(resolve));
          expect(events).toBe(1);
          expect(client.size).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 60 },
    );
    await client.close();
    await waitFor(() => bridgeServer.sockets.size === 0, 'every bridge socket closed');
  }, 30_000);
});

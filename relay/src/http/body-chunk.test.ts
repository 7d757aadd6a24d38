/**
 * writeBodyChunk puts on the wire exactly what Node's own `res.write` does (real server, raw
 * socket): any length, mixed with plain writes and the end; and it leaves Node to decide when the
 * body is not chunked (HTTP/1.0, a fixed length, a HEAD) or the head is not out yet.
 */
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBodyChunk } from './body-chunk.js';

const PIECES = [1, 15, 16, 255, 256, 4095, 4096, 70_000].map((n, i) => Buffer.alloc(n, 0x61 + i));
PIECES.push(Buffer.from('data: {"content":"é中😀"}\n\n'));

type Writer = (res: ServerResponse, bytes: Uint8Array) => boolean;
const plain: Writer = (res, bytes) => res.write(bytes);

let handler: (res: ServerResponse, path: string) => void = () => undefined;
const server = createServer((req, res) => handler(res, req.url ?? ''));
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends a raw request; resolves with every byte the server sent until it closed. */
function raw(request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const got: Buffer[] = [];
    socket.on('data', (b) => got.push(b));
    socket.on('end', () => resolve(Buffer.concat(got)));
    socket.on('error', reject);
  });
}

/** The response with its Date header blanked (it may tick between two requests). */
const wire = async (request: string) => (await raw(request)).toString('latin1').replace(/Date: .*\r\n/, '');

const get = (path: string, version = '1.1', method = 'GET') =>
  `${method} ${path} HTTP/${version}\r\nHost: x\r\nConnection: close\r\n\r\n`;

function serve(write: (path: string) => Writer, head: (res: ServerResponse) => void): void {
  handler = (res, path) => {
    const w = write(path);
    head(res);
    PIECES.forEach((piece, i) => {
      if (i % 3 === 2) res.write(piece);
      else w(res, piece);
    });
    w(res, Buffer.alloc(0));
    res.end('tail');
  };
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const pick = (path: string): Writer => (path === '/framed' ? writeBodyChunk : plain);

describe('writeBodyChunk', () => {
  it('sends the bytes Node would, one chunk per call, for any length and next to plain writes', async () => {
    serve(pick, sse);
    const framed = await wire(get('/framed'));
    const node = await wire(get('/plain'));
    expect(framed).toContain('Transfer-Encoding: chunked');
    expect(framed).toContain(`\r\n1\r\na\r\nf\r\n${'b'.repeat(15)}\r\n`);
    expect(framed).toContain(`\r\n11170\r\n`);
    expect(framed.endsWith('4\r\ntail\r\n0\r\n\r\n')).toBe(true);
    expect(framed).toBe(node);
  });

  it('hands the socket one write per chunk where Node makes four', async () => {
    const writes: Record<string, number> = {};
    handler = (res, path) => {
      sse(res);
      res.flushHeaders();
      const socket = res.socket!;
      const write = socket.write.bind(socket);
      let count = 0;
      socket.write = ((...args: Parameters<typeof write>) => {
        count++;
        return write(...args);
      }) as typeof socket.write;
      pick(path)(res, Buffer.from('data: {}\n\n'));
      writes[path] = count;
      res.end();
    };
    await raw(get('/framed'));
    await raw(get('/plain'));
    expect(writes).toEqual({ '/framed': 1, '/plain': 4 });
  });

  it('leaves the framing to Node for HTTP/1.0, a fixed length, a HEAD, or before the head', async () => {
    serve(pick, sse);
    expect(await wire(get('/framed', '1.0'))).toBe(await wire(get('/plain', '1.0')));
    expect(await wire(get('/framed', '1.1', 'HEAD'))).toBe(await wire(get('/plain', '1.1', 'HEAD')));
    const total = PIECES.reduce((n, p) => n + p.length, 0) + 4;
    serve(pick, (res) => res.writeHead(200, { 'content-length': String(total) }));
    const fixed = await wire(get('/framed'));
    expect(fixed).not.toContain('chunked');
    expect(fixed).toBe(await wire(get('/plain')));
    serve(pick, () => undefined); // no head yet: the first write sends Node's implicit one
    expect(await wire(get('/framed'))).toBe(await wire(get('/plain')));
  });
});

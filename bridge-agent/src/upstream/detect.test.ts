import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recording } from '../test-support/replay.js';
import { BridgeClient } from './bridge-client.js';
import { detectDialect } from './detect.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
const clients: BridgeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server on port 0 answering like one bridge; returns a client for `base` under it. */
async function bridge(handler: Handler, base = ''): Promise<BridgeClient> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new BridgeClient({
    baseUrl: `http://127.0.0.1:${port}${base}`,
    connections: 2,
    probeTimeoutMs: 1000,
  });
  clients.push(client);
  return client;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

/** Replays a recorded answer of CloudWaddie's bridge, status and body. */
const replayed = (res: ServerResponse, name: string) => {
  const rec = recording('cloudwaddie', name);
  res
    .writeHead(rec.status, { 'content-type': rec.headers['content-type'] ?? '', server: 'uvicorn' })
    .end(rec.body);
};

const cloudwaddie: Handler = (req, res) => {
  if (req.url === '/api/v1/health') return replayed(res, 'health.txt');
  if (req.url === '/api/v1/models') return replayed(res, 'models-withkey.txt');
  json(res, 404, { detail: 'Not Found' }, { server: 'uvicorn' });
};

describe('bridge: auto', () => {
  it('finds CloudWaddie’s bridge from its health checks, with or without /api/v1 in upstream_url', async () => {
    for (const base of ['', '/api/v1']) {
      const client = await bridge(cloudwaddie, base);
      const found = await detectDialect(client);
      expect(found?.dialect.name).toBe('lmarenabridge-cw');
      expect(found?.evidence).toContain('healthy');
      client.dialect = found!.dialect;
      expect(client.pathOf('/v1/chat/completions')).toBe('/api/v1/chat/completions');
    }
  });

  it('finds a degraded CloudWaddie bridge too (health is always 200)', async () => {
    const client = await bridge((req, res) =>
      req.url === '/api/v1/health'
        ? replayed(res, 'degraded-health.txt')
        : json(res, 404, { detail: 'Not Found' }),
    );
    expect((await detectDialect(client))?.dialect.name).toBe('lmarenabridge-cw');
  });

  it('finds v2.7.6 from its model list, and from its FastAPI 401 when it has a key', async () => {
    const v2 = await bridge((req, res) =>
      req.url === '/v1/models'
        ? json(res, 200, {
            object: 'list',
            data: [{ id: 'gpt-5', object: 'model', owned_by: 'LMArenaBridge' }],
          })
        : json(res, 404, { detail: 'Not Found' }),
    );
    expect((await detectDialect(v2))?.dialect.name).toBe('lmarenabridge-v2');
    const keyed = await bridge((_req, res) => json(res, 401, { detail: 'API Key 无效' }));
    expect((await detectDialect(keyed))?.dialect.name).toBe('lmarenabridge-v2');
  });

  it('finds WebAI2API (Express) and plain OpenAI servers (Ollama)', async () => {
    const webai = await bridge((req, res) =>
      req.url === '/v1/models'
        ? json(
            res,
            200,
            { object: 'list', data: [{ id: 'gemini', object: 'model', owned_by: 'google' }] },
            { 'x-powered-by': 'Express' },
          )
        : json(
            res,
            404,
            { error: { message: 'Not Found', code: 'NOT_FOUND' } },
            { 'x-powered-by': 'Express' },
          ),
    );
    expect((await detectDialect(webai))?.dialect.name).toBe('webai2api');
    const ollama = await bridge((req, res) =>
      req.url === '/v1/models'
        ? json(res, 200, {
            object: 'list',
            data: [{ id: 'llama3.2:latest', object: 'model', owned_by: 'library' }],
          })
        : res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found'),
    );
    const found = await detectDialect(ollama);
    expect(found?.dialect.name).toBe('openai');
    expect(found?.evidence).toContain('OpenAI-compatible');
  });

  it('answers undefined when nothing listens, and gives up on a silent server within the probe timeout', async () => {
    const dead = await bridge(() => {});
    const started = Date.now();
    expect(await detectDialect(dead)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
    const gone = new BridgeClient({ baseUrl: 'http://127.0.0.1:1', connections: 1, probeTimeoutMs: 500 });
    clients.push(gone);
    expect(await detectDialect(gone)).toBeUndefined();
  });

  it('stays bounded against a hostile server (huge body, junk JSON)', async () => {
    const client = await bridge((req, res) => {
      if (req.url === '/api/v1/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"checks":');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(8 * 1024 * 1024, 0x7b));
    });
    const found = await detectDialect(client);
    // Neither answer is readable: the fallback, never a crash or an unbounded read.
    expect(found?.dialect.name).toBe('openai');
  });
});

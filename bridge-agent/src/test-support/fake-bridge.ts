/**
 * Test helper: a minimal LMArenaBridge on node:http. `/v1/models` answers from `models`; chat
 * requests go to a handler the test sets, which writes the reply itself. SSE bytes are written the
 * way the real bridge writes them (Python JSON spacing, raw UTF-8, `\n\n` after each event).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ChatHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export type SeenRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string };

/** One SSE event as LMArenaBridge writes it: `data: {…}` with `", "` / `": "` spacing. */
export function sseChunk(content: string | null, finish: string | null = null): string {
  const delta = content === null ? '{}' : `{"content": ${JSON.stringify(content)}}`;
  return `data: {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1795663374, "model": "gpt-5", "choices": [{"index": 0, "delta": ${delta}, "finish_reason": ${finish === null ? 'null' : JSON.stringify(finish)}}]}\n\n`;
}

/** The bridge's closing events: the stop chunk and `[DONE]`, written together. */
export const SSE_DONE = `${sseChunk(null, 'stop')}data: [DONE]\n\n`;

/** Starts a `text/event-stream` answer the way the bridge does (headers flushed at once). */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  res.flushHeaders();
}

export class FakeBridge {
  models = ['gpt-5', 'claude-opus'];
  /** Status of `/v1/models` (body `{"detail": …}` when not 200). */
  modelsStatus = 200;
  chat: ChatHandler = (_req, res) => res.writeHead(500).end('{"detail": "no chat handler set"}');
  readonly requests: SeenRequest[] = [];
  /** Chat requests whose client went away before the reply was complete. */
  aborted = 0;
  #server: Server;
  #url = '';

  private constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(): Promise<FakeBridge> {
    const bridge = new FakeBridge();
    await new Promise<void>((resolve) => bridge.#server.listen(0, '127.0.0.1', resolve));
    bridge.#url = `http://127.0.0.1:${(bridge.#server.address() as AddressInfo).port}`;
    return bridge;
  }

  get url(): string {
    return this.#url;
  }

  /** Chat requests received. */
  get chats(): SeenRequest[] {
    return this.requests.filter((request) => request.path === '/v1/chat/completions');
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      if (req.method === 'GET' && path === '/v1/models') return this.#models(res);
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        res.on('close', () => {
          if (!res.writableFinished) this.aborted++;
        });
        return this.chat(req, res, body);
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    });
  }

  #models(res: ServerResponse): void {
    if (this.modelsStatus !== 200) {
      res.writeHead(this.modelsStatus, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ detail: 'models unavailable' }));
    }
    const data = this.models.map((id) => ({
      id,
      object: 'model',
      created: 1795663374,
      owned_by: 'LMArenaBridge',
    }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data }));
  }
}

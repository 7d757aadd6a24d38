/**
 * What the suite's fake bridges of other dialects share (CloudWaddie, WebAI2API, OpenAI-compatible):
 * a node:http server on 127.0.0.1:0 that records every request with its body and whether the
 * client left early, counts open responses, and closes without waiting on a hanging one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './fake-bridge.js';

export abstract class FakeServer {
  url = '';
  port = 0;
  readonly requests: RecordedRequest[] = [];
  openStreams = 0;
  private closing: Promise<void> | undefined;
  readonly server = createServer((req, res) => {
    this.handle(req, res).catch(() => res.destroy());
  });

  /** Answers one request; its body is in `record.raw` (and `record.body` once parsed). */
  protected abstract route(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> | void;

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      headers: req.headers,
      body: undefined,
      raw: Buffer.alloc(0),
      closedEarly: false,
    };
    this.requests.push(record);
    this.openStreams++;
    res.on('close', () => {
      this.openStreams--;
      if (!res.writableFinished) record.closedEarly = true;
    });
    const raw: Buffer[] = [];
    for await (const piece of req) raw.push(piece as Buffer);
    record.raw = Buffer.concat(raw);
    await this.route(req, res, record);
  }
}

/** Listens on 127.0.0.1, port 0; fills in `url` and `port`. */
export async function listen<T extends FakeServer>(fake: T): Promise<T> {
  await new Promise<void>((resolve, reject) => {
    fake.server.once('error', reject);
    fake.server.listen(0, '127.0.0.1', () => {
      fake.server.off('error', reject);
      resolve();
    });
  });
  fake.port = (fake.server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  return fake;
}

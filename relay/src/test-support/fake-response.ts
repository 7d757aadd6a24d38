/**
 * A stand-in for the consumer's ServerResponse in unit tests: keeps what the consumer received,
 * and lets a test fill its socket (`full`: `write` returns false until the test emits 'drain').
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

export class FakeResponse extends EventEmitter {
  status = 0;
  headers: Record<string, string> = {};
  body = '';
  ended = false;
  destroyed = false;
  full = false;
  get headersSent() {
    return this.status !== 0;
  }
  get statusCode() {
    return this.status;
  }
  get writableEnded() {
    return this.ended;
  }
  cork() {}
  uncork() {}
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: Buffer | string) {
    this.body += chunk.toString();
    return !this.full;
  }
  end(chunk?: string) {
    if (chunk) this.body += chunk;
    this.ended = true;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  /** As the code under test sees it. */
  asResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

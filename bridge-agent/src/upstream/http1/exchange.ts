/**
 * One request to the bridge on one of the pool's sockets: writes the request, feeds what the
 * socket reads to a ResponseParser, and is the controller the handler pauses, resumes and
 * aborts. Settles the handler exactly once; the pool takes the socket back (`release`).
 */
import type net from 'node:net';
import type { Dispatcher } from 'undici';
import type { Watched } from './idle-watch.js';
import type { Http1Pool } from './pool.js';
import { ResponseParser } from './response-parser.js';

/** One request: its head (request line and headers, CRLF-terminated) and body pieces. */
export type Http1Request = { head: string; body: readonly (Buffer | string)[] };

/** An error with the code classify.ts reads (undici's names for timeouts, so they read the same). */
export function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Largest request sent as one buffer; a larger body is written piece by piece, never copied. */
const JOIN_LIMIT = 64 * 1024;

/** Writes the request: a model's request (small) in one buffer, one write instead of a writev. */
function writeRequest(socket: net.Socket, { head, body }: Http1Request): void {
  let size = Buffer.byteLength(head);
  for (const piece of body) size += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.byteLength;
  if (size > JOIN_LIMIT) {
    socket.cork();
    socket.write(head);
    for (const piece of body) socket.write(piece);
    socket.uncork();
    return;
  }
  const bytes = Buffer.allocUnsafe(size);
  let at = bytes.write(head);
  for (const piece of body) at += typeof piece === 'string' ? bytes.write(piece, at) : piece.copy(bytes, at);
  socket.write(bytes);
}

/** One request on its way: the controller the handler pauses, resumes and aborts. */
export class Exchange implements Dispatcher.DispatchController, Watched {
  /** For the pool's idle watch: bytes came since its last tick, and its quiet ticks in a row. */
  heard = false;
  quiet = 0;
  #socket: net.Socket | undefined;
  #parser: ResponseParser | undefined;
  #paused = false;
  #reason: Error | null = null;
  /** The handler has had its last event. */
  #finished = false;

  constructor(
    readonly pool: Http1Pool,
    readonly request: Http1Request,
    readonly handler: Dispatcher.DispatchHandler,
  ) {}

  get aborted(): boolean {
    return this.#reason !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** Sends the request on `socket` and reads the answer from it. */
  start(socket: net.Socket): void {
    this.#socket = socket;
    const parser = new ResponseParser({
      onHead: (status, headers) => {
        this.pool.hint(socket, headers['keep-alive']);
        this.handler.onResponseStart?.(this, status, headers);
      },
      onData: (chunk) => {
        this.handler.onResponseData?.(this, chunk);
        return !this.#paused;
      },
      onEnd: () => this.#end(),
      onError: (error) => this.fail(error),
    });
    this.#parser = parser;
    // The idle limit is the pool's watch (idle-watch.ts), not a socket timeout re-armed per read;
    // while connecting, the connect timeout stands (the pool clears it on connect).
    if (!socket.connecting) socket.setTimeout(0);
    this.pool.watch.add(this);
    writeRequest(socket, this.request);
  }

  /** The socket read `bytes[0, end)`. */
  onData(bytes: Buffer, end: number): void {
    this.heard = true;
    this.#parser?.feed(bytes, 0, end);
  }

  onEof(): void {
    this.#parser?.eof();
  }

  onTimeout(): void {
    const head = this.#parser?.inHead !== false;
    this.fail(
      coded(
        `the bridge sent nothing for ${this.pool.timeoutMs} ms`,
        head ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT',
      ),
    );
  }

  /** The request failed (socket error, timeout, bad answer): the socket is not reused. */
  fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#parser?.stop();
    this.pool.release(this, this.#socket, false);
    this.handler.onResponseError?.(this, error);
  }

  #end(): void {
    if (this.#finished) return;
    this.#finished = true;
    const parser = this.#parser!;
    this.pool.release(this, this.#socket, parser.keepAlive && !parser.surplus);
    this.handler.onResponseEnd?.(this, {});
  }

  abort(reason: Error): void {
    if (this.#finished) return;
    this.#reason = reason;
    this.fail(reason);
  }

  pause(): void {
    if (this.#paused || this.#finished) return;
    this.#paused = true;
    // The relay's credit is what we wait for now, not the bridge: the idle watch skips it meanwhile.
    this.#socket?.pause();
  }

  resume(): void {
    if (!this.#paused || this.#finished) return;
    this.#paused = false;
    this.#parser?.resume();
    if (this.#finished || this.#paused) return;
    this.quiet = 0;
    this.#socket?.resume();
  }
}

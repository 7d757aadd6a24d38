/**
 * An HTTP/1.x response parser for the agent's own bridge client: the head is parsed once
 * (response-head.ts), and the body (chunked: chunk-framing.ts, content-length or read to close)
 * is handed out as views of the bytes the socket read, never copied. Everything from the bridge
 * is hostile: the head and a chunk's size line are capped, anything malformed ends the response
 * with a BridgeHttpError, and nothing throws out of `feed`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ChunkFraming } from './chunk-framing.js';
import { BridgeHttpError, HeadReader, type ResponseHead } from './response-head.js';

export { BridgeHttpError, HEAD_LIMIT } from './response-head.js';

export interface ResponseEvents {
  /** The final (non-1xx) head. */
  onHead(status: number, headers: IncomingHttpHeaders): void;
  /** A view of body bytes; false pauses the parser until `resume`. */
  onData(chunk: Buffer): boolean;
  /** The whole response has arrived. */
  onEnd(): void;
  onError(error: BridgeHttpError): void;
}

/** `chunked`: in the framing between chunks; `data`: in a chunk's data. */
type State = 'head' | 'chunked' | 'data' | 'length' | 'close' | 'done' | 'failed';

export class ResponseParser {
  #state: State = 'head';
  readonly #events: ResponseEvents;
  readonly #head = new HeadReader();
  #framing: ChunkFraming | undefined;
  /** Bytes of the current chunk, or of a content-length body, still to come. */
  #remaining = 0;
  /** Bytes not yet parsed when `onData` asked for a pause. */
  #rest: Buffer | undefined;
  #paused = false;
  /** The socket ended while paused: the end is taken once the held bytes are. */
  #eofPending = false;
  /** The connection may carry another request after this response (HTTP/1.1, no close, framed body). */
  keepAlive = false;
  /** Bytes came after the end of the response: the connection is not to be reused. */
  surplus = false;

  constructor(events: ResponseEvents) {
    this.#events = events;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  get failed(): boolean {
    return this.#state === 'failed';
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** True while the response head has not fully arrived. */
  get inHead(): boolean {
    return this.#state === 'head';
  }

  /** Parses `bytes[start, end)`, bytes the socket read (the views handed out are of `bytes`). */
  feed(bytes: Buffer, start = 0, end = bytes.length): void {
    if (this.#state === 'done' || this.#state === 'failed') {
      if (end > start) this.surplus = true;
      return;
    }
    if (this.#paused) {
      // The owner pauses the socket with the parser; bytes read meanwhile wait their turn.
      const read = bytes.subarray(start, end);
      this.#rest = this.#rest === undefined ? read : Buffer.concat([this.#rest, read]);
      return;
    }
    this.#run(bytes, start, end);
  }

  /** Continues after a pause with the bytes held back. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest !== undefined) this.#run(rest, 0, rest.length);
    if (this.#eofPending && !this.#paused) this.eof();
  }

  /** The socket ended: the end of a body read to close, else a response cut short. */
  eof(): void {
    if (this.#paused) {
      this.#eofPending = true;
      return;
    }
    this.#eofPending = false;
    if (this.#state === 'close') {
      this.#state = 'done';
      this.#events.onEnd();
    } else if (this.#state !== 'done' && this.#state !== 'failed') {
      const where = this.#state === 'head' ? 'before answering' : 'mid-body';
      this.#fail(new BridgeHttpError(`the bridge closed the connection ${where}`, 'BRIDGE_CLOSED'));
    }
  }

  /** Stops without an event (the owner gave up on the response). */
  stop(): void {
    this.#state = 'failed';
    this.keepAlive = false;
    this.#rest = undefined;
  }

  #fail(error: BridgeHttpError): void {
    this.stop();
    this.#events.onError(error);
  }

  #run(bytes: Buffer, start: number, end: number): void {
    let at = start;
    while (at < end) {
      switch (this.#state) {
        case 'head': {
          const head = this.#head.read(bytes, at, end);
          if (head === 'more') return;
          if (head instanceof BridgeHttpError) return this.#fail(head);
          at = this.#head.after;
          if (head === 'informational') break;
          this.#begin(head);
          this.#events.onHead(head.status, head.headers);
          // A body-less answer (204, 304, content-length 0) ends with its head.
          if ((this.#state as State) === 'done') return this.#finish(at < end);
          break;
        }
        case 'data':
        case 'length':
        case 'close': {
          const take = this.#state === 'close' ? end - at : Math.min(this.#remaining, end - at);
          const piece = at === 0 && take === bytes.length ? bytes : bytes.subarray(at, at + take);
          at += take;
          if (this.#state !== 'close') {
            this.#remaining -= take;
            if (this.#remaining === 0 && this.#state === 'data') {
              this.#framing!.dataRead();
              this.#state = 'chunked';
            } else if (this.#remaining === 0) this.#state = 'done';
          }
          const more = this.#events.onData(piece);
          // The sink may have failed the stream from inside onData: stop quietly.
          if ((this.#state as State) === 'failed') return;
          if (this.#state === 'done') return this.#finish(at < end);
          if (!more) {
            this.#paused = true;
            if (at < end) this.#rest = bytes.subarray(at, end);
            return;
          }
          break;
        }
        case 'chunked': {
          const framing = this.#framing!;
          at = framing.read(bytes, at, end);
          if (framing.problem) return this.#fail(new BridgeHttpError(framing.problem));
          if (framing.state === 'data') {
            this.#state = 'data';
            this.#remaining = framing.size;
          } else if (framing.state === 'done') {
            this.#state = 'done';
            return this.#finish(at < end);
          }
          break;
        }
        case 'done':
          this.surplus = true;
          return;
        case 'failed':
          return;
      }
    }
  }

  /** The head's framing decides what the body bytes are. */
  #begin(head: ResponseHead): void {
    this.keepAlive = head.keepAlive;
    const framing = head.framing;
    if (framing.kind === 'chunked') {
      this.#framing ??= new ChunkFraming();
      this.#framing.reset();
      this.#state = 'chunked';
    } else if (framing.kind === 'length') {
      this.#remaining = framing.length;
      this.#state = 'length';
    } else {
      this.#state = framing.kind === 'close' ? 'close' : 'done';
    }
  }

  /** The response is complete; `more`: bytes followed it in the same read. */
  #finish(more: boolean): void {
    if (more) this.surplus = true;
    this.#events.onEnd();
  }
}

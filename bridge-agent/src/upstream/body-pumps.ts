/**
 * How a bridge's 2xx body reaches the sink. Event streams: `head` is held until the first complete
 * SSE event, so an in-band bridge error there becomes a failure before anything reaches the
 * consumer; later chunks are checked with one `indexOf` each and never parsed. Other bodies go
 * out as they are.
 */

import { classifyBridgeMessage, type UpstreamFailure } from './classify.js';
import type { StreamSink } from './forward.js';
import { firstEventError, laterEventError, MarkerScanner } from './in-band-error.js';

/** Largest first event held back before `head`; beyond it the bytes flow unchecked. */
const FIRST_EVENT_LIMIT = 64 * 1024;
const EVENT_END = Buffer.from('\n\n');

/** Moves a body into the sink; subclasses decide per chunk. */
export abstract class Pump {
  constructor(
    protected readonly sink: StreamSink,
    /** Stops reading and aborts the upstream request with `failure`. */
    protected readonly stop: (failure: UpstreamFailure) => void,
  ) {}

  /** Handles one chunk; returns false to pause until the sink is writable again. */
  abstract onChunk(chunk: Buffer): boolean;
  /** The body ended; a failure found here goes to `stop`. */
  abstract onEnd(): void;
}

export class EventStreamPump extends Pump {
  readonly #scanner = new MarkerScanner();
  readonly #type: string;
  /** Bytes held back until the first event is complete; undefined once `head` went out. */
  #held: Buffer | undefined = Buffer.alloc(0);

  constructor(sink: StreamSink, stop: (failure: UpstreamFailure) => void, type: string) {
    super(sink, stop);
    this.#type = type;
  }

  onChunk(chunk: Buffer): boolean {
    if (this.#held === undefined) {
      // Hot path: one indexOf, then the bytes go out as they are.
      if (this.#scanner.scan(chunk)) {
        this.stop(classifyBridgeMessage(laterEventError(chunk)));
        return false;
      }
      return this.sink.write(chunk);
    }
    const held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const cut = held.indexOf(EVENT_END);
    if (cut === -1 && held.length < FIRST_EVENT_LIMIT) {
      this.#held = held;
      return true;
    }
    this.#held = undefined;
    const first = cut === -1 ? held : held.subarray(0, cut);
    const message = firstEventError(first);
    if (message !== undefined) {
      this.stop(classifyBridgeMessage(message));
      return false;
    }
    const rest = held.subarray(first.length);
    if (this.#scanner.scan(rest)) {
      this.stop(classifyBridgeMessage(laterEventError(rest)));
      return false;
    }
    this.sink.head(200, { 'content-type': this.#type });
    return this.sink.write(held);
  }

  onEnd(): void {
    if (this.#held !== undefined) {
      // The body ended before a complete first event: pass on whatever came.
      const held = this.#held;
      this.#held = undefined;
      const message = firstEventError(held);
      if (message !== undefined) {
        return this.stop(classifyBridgeMessage(message));
      }
      this.sink.head(200, { 'content-type': this.#type });
      if (held.length > 0) this.sink.write(held);
    }
    this.sink.end();
  }
}

/**
 * Any other 2xx body (the bridge's non-stream JSON): head at once, then the bytes untouched. Its
 * `usage` is not read: the relay meters what it relays and trusts no agent's count.
 */
export class PlainPump extends Pump {
  constructor(sink: StreamSink, stop: (failure: UpstreamFailure) => void, status: number, type: string) {
    super(sink, stop);
    sink.head(status, type ? { 'content-type': type } : {});
  }

  onChunk(chunk: Buffer): boolean {
    return this.sink.write(chunk);
  }

  onEnd(): void {
    this.sink.end();
  }
}

/**
 * How a bridge's 2xx body reaches the sink. Event streams: `head` is held until the first
 * meaningful event (keep-alive comments and role chunks do not count), so an error event, a bare
 * stop or an early `[DONE]` becomes a failure before anything reaches the consumer; after that,
 * chunks are checked with one `indexOf` for the dialect's error marker and never parsed.
 * Non-streamed JSON is judged whole (up to a cap) before `head` (plain-pump.ts).
 */

import { classifyBridgeMessage, type UpstreamFailure } from './classify.js';
import { type Dialect, errorObject } from './dialects/index.js';
import { emptyAnswer, judgeEvent } from './first-event.js';
import type { StreamSink } from './forward.js';
import { BRIDGE_ERROR_MARKER, laterEventError, MarkerScanner } from './in-band-error.js';

/** Largest start of a stream held back before `head`; beyond it the bytes flow unjudged. */
const FIRST_EVENT_LIMIT = 64 * 1024;
/** Largest error event read after content to learn what it says. */
const ERROR_EVENT_LIMIT = 16 * 1024;
const EVENT_END = Buffer.from('\n\n');
/** sse-starlette (llama-cpp-python's server) ends lines with CRLF. */
const CRLF_EVENT_END = Buffer.from('\n\r\n');

/** Where the first blank line in `bytes` ends (index after it), or -1. */
function afterBlankLine(bytes: Buffer): number {
  const lf = bytes.indexOf(EVENT_END);
  const crlf = bytes.indexOf(CRLF_EVENT_END);
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 3;
  return lf === -1 ? -1 : lf + 2;
}

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

/** The failure an error marker found after content flowed stands for (error path only). */
function laterFailure(chunk: Buffer, dialect: Dialect): UpstreamFailure {
  const at = chunk.indexOf(dialect.laterErrorMarker);
  if (dialect.laterErrorMarker === BRIDGE_ERROR_MARKER) {
    // The event's start may have gone out with the chunk before: read the JSON string on from the marker.
    const rest =
      at === -1
        ? undefined
        : /^((?:[^"\\]|\\.)*)"/.exec(chunk.toString('utf8', at + BRIDGE_ERROR_MARKER.length));
    if (rest) {
      try {
        return classifyBridgeMessage(JSON.parse(`"${rest[1]}"`) as string);
      } catch {
        // A broken escape: the generic message below.
      }
    }
    return classifyBridgeMessage(laterEventError(chunk));
  }
  if (at !== -1) {
    let end = chunk.indexOf(10, at);
    if (end === -1) end = chunk.length;
    try {
      const error = errorObject((JSON.parse(chunk.toString('utf8', at, end)) as { error?: unknown }).error);
      if (error) return dialect.classifyError(error, true);
    } catch {
      // Split across chunks or not JSON: the generic failure below.
    }
  }
  return {
    code: 'upstream_error',
    status: 502,
    scope: 'model',
    message: 'the bridge reported an error mid-stream',
  };
}

/**
 * `chunk` when the marker is in it; else the marker began in the chunk before (already sent) and
 * `chunk` starts with its rest: the missing start is put back so the event can be read whole.
 */
function withMarkerStart(chunk: Buffer, marker: Buffer): Buffer {
  if (chunk.indexOf(marker) !== -1) return chunk;
  for (let k = 1; k < marker.length; k++) {
    const rest = marker.subarray(k);
    if (chunk.length >= rest.length && chunk.subarray(0, rest.length).equals(rest)) {
      return Buffer.concat([marker.subarray(0, k), chunk]);
    }
  }
  return chunk;
}

export class EventStreamPump extends Pump {
  readonly #scanner: MarkerScanner;
  readonly #type: string;
  readonly #dialect: Dialect;
  /** Events held back (role chunks) until the first meaningful one; undefined once `head` went out. */
  #kept: Buffer[] | undefined = [];
  #keptSize = 0;
  /**
   * The incomplete event after the last blank line, before `head`, in the pieces it came in: joined
   * only when a piece may end it, so a bridge dribbling bytes costs linear time, not quadratic.
   */
  #pending: Buffer[] = [];
  #pendingSize = 0;
  /** The last byte of the last piece was CR or LF (a blank line may straddle pieces). */
  #newlineAtEnd = false;
  /** After content: the bytes of an error event being read to its end, to say what it was. */
  #error: Buffer | undefined;

  constructor(sink: StreamSink, stop: (failure: UpstreamFailure) => void, type: string, dialect: Dialect) {
    super(sink, stop);
    this.#type = type;
    this.#dialect = dialect;
    this.#scanner = new MarkerScanner(dialect.laterErrorMarker);
  }

  onChunk(chunk: Buffer): boolean {
    if (this.#error !== undefined) return this.#readError(chunk);
    if (this.#kept === undefined) {
      // Hot path: one indexOf, then the bytes go out as they are.
      if (this.#scanner.scan(chunk)) return this.#readError(chunk);
      return this.sink.write(chunk);
    }
    // A blank line may straddle pieces: then the byte before and the first byte are line ends.
    const ends = afterBlankLine(chunk) !== -1 || (this.#newlineAtEnd && (chunk[0] === 10 || chunk[0] === 13));
    const last = chunk[chunk.length - 1];
    if (last !== undefined) this.#newlineAtEnd = last === 10 || last === 13;
    if (!ends) {
      this.#pending.push(chunk);
      this.#pendingSize += chunk.length;
      if (this.#keptSize + this.#pendingSize >= FIRST_EVENT_LIMIT) return this.#commit(this.#takePending());
      return true;
    }
    this.#pending.push(chunk);
    let pending = this.#takePending();
    for (let end = afterBlankLine(pending); end !== -1; end = afterBlankLine(pending)) {
      const event = pending.subarray(0, end);
      const verdict = judgeEvent(event, this.#dialect);
      if (verdict === 'commit') return this.#commit(pending);
      if (typeof verdict === 'object') {
        this.stop(verdict);
        return false;
      }
      // Keep-alives are dropped (the relay sends its own); a role chunk is kept for the consumer.
      if (verdict === 'hold') this.#keep(event);
      pending = pending.subarray(end);
    }
    if (pending.length > 0) this.#pending.push(pending);
    this.#pendingSize = pending.length;
    if (this.#keptSize + pending.length >= FIRST_EVENT_LIMIT) return this.#commit(this.#takePending());
    return true;
  }

  /** The pending pieces as one buffer (emptied). */
  #takePending(): Buffer {
    const pieces = this.#pending;
    this.#pending = [];
    this.#pendingSize = 0;
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  onEnd(): void {
    if (this.#error !== undefined) return this.stop(laterFailure(this.#error, this.#dialect));
    if (this.#kept !== undefined) {
      const rest = this.#takePending();
      const verdict = rest.length > 0 ? judgeEvent(rest, this.#dialect) : 'skip';
      if (typeof verdict === 'object') return this.stop(verdict);
      if (verdict !== 'commit') return this.stop(emptyAnswer('the stream ended before any content'));
      this.#commit(rest);
    }
    this.sink.end();
  }

  /**
   * An error marker came after content: the event is read to its end (at most ERROR_EVENT_LIMIT
   * bytes; nothing more is sent) so the failure carries the bridge's words. Error path only.
   */
  #readError(chunk: Buffer): boolean {
    const bytes =
      this.#error === undefined
        ? withMarkerStart(chunk, this.#dialect.laterErrorMarker)
        : Buffer.concat([this.#error, chunk]);
    const at = bytes.indexOf(this.#dialect.laterErrorMarker);
    if ((at !== -1 && bytes.indexOf(10, at) !== -1) || bytes.length >= ERROR_EVENT_LIMIT) {
      this.#error = undefined;
      this.stop(laterFailure(bytes, this.#dialect));
      return false;
    }
    this.#error = bytes;
    return true;
  }

  #keep(event: Buffer): void {
    // `event` is a view of a buffer that is let go of: copy the few bytes kept.
    this.#kept!.push(Buffer.from(event));
    this.#keptSize += event.length;
  }

  /** Sends `head` and the held events, then `rest` (the meaningful event onwards), scanned. */
  #commit(rest: Buffer): boolean {
    const kept = this.#kept!;
    this.#kept = undefined;
    this.#pending = [];
    this.#pendingSize = 0;
    if (this.#scanner.scan(rest)) {
      this.stop(laterFailure(rest, this.#dialect));
      return false;
    }
    this.sink.head(200, { 'content-type': this.#type });
    return this.sink.write(kept.length === 0 ? rest : Buffer.concat([...kept, rest]));
  }
}

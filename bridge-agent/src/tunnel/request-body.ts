/**
 * A v2 request body arriving in BODY data frames after its `open`: the payloads are kept as
 * they came (views of the received frames, no copy, no decoding) until exactly the announced
 * number of bytes is in; one byte more is a protocol error. A body the `open` flags `rerouted`
 * gets the routed model written in once complete (routed-model.ts).
 */
import { Breach, type OpenFrame, PROTOCOL_V2, type ProtocolBreach } from '@arena-relay/shared';
import { writeRoutedModel } from './routed-model.js';

export type BodyProgress = { ok: true; complete: boolean } | { ok: false; reason: string };

export class RequestBody {
  readonly #expected: number;
  readonly #parts: Buffer[] = [];
  #received = 0;

  /** `expected`: the `open`'s bodyBytes (the schema bounds it by MAX_OPEN_FRAME_BYTES). */
  constructor(
    readonly stream: number,
    expected: number,
  ) {
    this.#expected = expected;
  }

  get complete(): boolean {
    return this.#received === this.#expected;
  }

  add(payload: Buffer): BodyProgress {
    if (this.complete)
      return { ok: false, reason: `stream ${this.stream} got body bytes after its whole body` };
    this.#received += payload.byteLength;
    if (this.#received > this.#expected) {
      return {
        ok: false,
        reason: `stream ${this.stream} got more body than the ${this.#expected} bytes its open announced`,
      };
    }
    if (payload.byteLength > 0) this.#parts.push(payload);
    return { ok: true, complete: this.complete };
  }

  /** The body's bytes, once complete: one Buffer when it came in one frame, else the pieces in order. */
  bytes(): Buffer | readonly Buffer[] {
    return this.#parts.length === 1 ? this.#parts[0]! : this.#parts;
  }

  get byteLength(): number {
    return this.#expected;
  }
}

/** Why an `open` breaks the body rules of the socket's `protocol`; undefined when it does not. */
export function openBreach(open: OpenFrame, protocol: number): string | undefined {
  if (open.rerouted && (open.bodyBytes === undefined || open.model === undefined))
    return `the open of stream ${open.stream} is rerouted without bodyBytes and model`;
  if (open.bodyBytes === undefined) return undefined;
  if (protocol < PROTOCOL_V2)
    return `the open of stream ${open.stream} announces bodyBytes on a protocol 1 socket`;
  if (open.body !== undefined) return `the open of stream ${open.stream} carries both body and bodyBytes`;
  return undefined;
}

/** What a BODY frame that does not fit costs: the stream it names, or the whole socket. */
export type BodyBreach = ProtocolBreach & { scope: 'stream' | 'socket' };

/**
 * The bodies a socket's streams are waiting for (protocol v2). A BODY frame is accepted only for
 * a stream whose `open` announced `bodyBytes` and whose body is not complete yet. Frames for a
 * stream that already ended (refused, cancelled, failed) are late and dropped; frames for a
 * stream the relay never opened are a breach of the socket.
 */
export class BodyIntake {
  readonly #waiting = new Map<
    number,
    { body: RequestBody; model: string | undefined; start: (bytes: Buffer | readonly Buffer[]) => void }
  >();
  /** The highest stream id an `open` named on this socket (the relay hands ids out in order). */
  #lastOpened = 0;

  /** Every `open` is seen here first, admitted or not. */
  opened(stream: number): void {
    if (stream > this.#lastOpened) this.#lastOpened = stream;
  }

  /**
   * `open` (checked by openBreach) awaits its `bodyBytes`; `start` runs once they are all in,
   * with the routed model written in when the open is `rerouted`.
   */
  expect(open: OpenFrame, bytes: number, start: (bytes: Buffer | readonly Buffer[]) => void): void {
    const model = open.rerouted ? open.model : undefined;
    this.#waiting.set(open.stream, { body: new RequestBody(open.stream, bytes), model, start });
  }

  /** The stream ended: its body is no longer awaited. */
  drop(stream: number): void {
    this.#waiting.delete(stream);
  }

  /** A BODY frame; `live`: the stream is open on the agent. Undefined when all is well. */
  receive(stream: number, payload: Buffer, live: boolean): BodyBreach | undefined {
    const waiting = this.#waiting.get(stream);
    if (!waiting) {
      if (live)
        return {
          scope: 'stream',
          code: Breach.BODY_OVERRUN,
          reason: `body frame for stream ${stream}, which expects no (more) body`,
        };
      if (stream > this.#lastOpened) {
        return {
          scope: 'socket',
          code: Breach.UNKNOWN_STREAM,
          reason: `body frame for stream ${stream}, which was never opened`,
        };
      }
      return undefined;
    }
    const progress = waiting.body.add(payload);
    if (!progress.ok) {
      this.#waiting.delete(stream);
      return { scope: 'stream', code: Breach.BODY_OVERRUN, reason: progress.reason };
    }
    if (!progress.complete) return undefined;
    this.#waiting.delete(stream);
    if (waiting.model === undefined) {
      waiting.start(waiting.body.bytes());
      return undefined;
    }
    const routed = writeRoutedModel(stream, waiting.body.bytes(), waiting.model);
    if (!routed.ok) return { scope: 'stream', code: Breach.ROUTED_BODY, reason: routed.reason };
    waiting.start(routed.bytes);
    return undefined;
  }
}

/**
 * One stream on the relay socket, seen from the agent: it owns the stream's flow-control credit.
 * Payload never exceeds the credit granted; what does not fit waits as one pending chunk (the
 * upstream body is paused meanwhile) and goes out when `credit` arrives.
 *
 * Chunks that arrive within one event-loop turn leave as one data frame at the turn's end, framed
 * with every other frame of the socket into its one write of the turn (session-channel.ts,
 * turn-writer.ts). Control frames that must follow the data (`end`, `error`) flush the batch first.
 */
import { type AgentFrame, type BreachCode, DATA_HEADER_BYTES } from '@arena-relay/shared';
import type { UpstreamFailure } from '../upstream/classify.js';
import type { StreamSink } from '../upstream/forward.js';

/** How the relay socket of one session is written to. */
export interface SessionChannel {
  sendControl(frame: AgentFrame): void;
  /** Calls `stream.flush()` at the end of this turn (once per call). */
  later(stream: { flush(): void }): void;
  /**
   * Sends `payload[start, end)` as data of `stream`, in data frames of at most `maxPayload`
   * bytes of payload (consecutive calls for one stream grow one frame); copied before it returns.
   */
  sendData(stream: number, payload: Uint8Array, start: number, end: number, maxPayload: number): void;
  /** The relay broke the protocol: close the socket (1002) with `reason`; `code` goes to the log. */
  protocolError(code: BreachCode, reason: string): void;
}

/** How a stream finished. `aborted`: the socket went away or the agent closed. */
export type StreamOutcome =
  | { kind: 'ended' }
  | { kind: 'failed'; failure: UpstreamFailure }
  | { kind: 'cancelled' }
  | { kind: 'aborted' };

export class RelayStream implements StreamSink {
  readonly startedAt = performance.now();
  onWritable: (() => void) | undefined;
  onAbort: (() => void) | undefined;
  #aborted = false;
  /** Payload bytes sent so far. */
  bytesOut = 0;
  /** HTTP status the bridge answered with, once known. */
  status: number | undefined;
  #credit: number;
  #pending: Buffer | undefined;
  /** `end` came while bytes were still waiting for credit: it goes out after them. */
  #endPending = false;
  #done = false;
  readonly #maxPayload: number;
  /**
   * Payload granted and waiting for the end of the turn: its first piece as the start of a buffer
   * (a paced answer brings one chunk a turn: no view, no array), the others in `#more`.
   */
  #first: Buffer | undefined;
  #firstEnd = 0;
  #more: Buffer[] | undefined;

  constructor(
    readonly id: number,
    window: number,
    maxFrameBytes: number,
    private readonly channel: SessionChannel,
    private readonly onDone: (stream: RelayStream, outcome: StreamOutcome) => void,
  ) {
    this.#credit = window;
    this.#maxPayload = Math.max(1, maxFrameBytes - DATA_HEADER_BYTES);
  }

  get done(): boolean {
    return this.#done;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  head(status: number, headers: Record<string, string>): void {
    if (this.#done) return;
    this.status = status;
    this.channel.sendControl({ type: 'head', stream: this.id, status, headers });
  }

  write(chunk: Buffer): boolean {
    if (this.#done) return false;
    const sent = this.#send(chunk);
    if (sent === chunk.length) return true;
    this.#pending = sent === 0 ? chunk : chunk.subarray(sent);
    return false;
  }

  end(): void {
    if (this.#done) return;
    if (this.#pending) this.#endPending = true;
    else this.#finishEnded();
  }

  fail(failure: UpstreamFailure): void {
    if (this.#done) return;
    this.status ??= failure.status;
    this.#pending = undefined;
    this.flush();
    this.channel.sendControl({ type: 'error', stream: this.id, ...failure });
    this.#finish({ kind: 'failed', failure });
    this.#signalAbort();
  }

  /** Adds relay-granted credit; sends what was waiting and lets the upstream flow again. */
  grant(bytes: number): void {
    if (this.#done) return;
    this.#credit += bytes;
    const pending = this.#pending;
    if (!pending) return;
    const sent = this.#send(pending);
    if (sent < pending.length) {
      this.#pending = pending.subarray(sent);
      return;
    }
    this.#pending = undefined;
    if (this.#endPending) this.#finishEnded();
    else this.onWritable?.();
  }

  /** The relay cancelled: abort the upstream, send nothing back. */
  cancel(): void {
    this.#abort({ kind: 'cancelled' });
  }

  /** The socket is gone or the agent is closing: abort the upstream, send nothing. */
  abort(): void {
    this.#abort({ kind: 'aborted' });
  }

  /** Batches as much of `chunk` as the credit allows for the end of the turn. Returns bytes taken. */
  #send(chunk: Buffer): number {
    const allowed = Math.min(chunk.length, this.#credit);
    if (allowed <= 0) return 0;
    if (this.#first === undefined) {
      this.#first = chunk;
      this.#firstEnd = allowed;
      this.channel.later(this);
    } else {
      const piece = allowed === chunk.length ? chunk : chunk.subarray(0, allowed);
      if (this.#more) this.#more.push(piece);
      else this.#more = [piece];
    }
    this.#credit -= allowed;
    this.bytesOut += allowed;
    return allowed;
  }

  /** Sends the batch (the channel calls this at the turn's end). */
  flush(): void {
    const first = this.#first;
    if (first === undefined || this.#done) return;
    const more = this.#more;
    this.#first = undefined;
    this.#more = undefined;
    this.channel.sendData(this.id, first, 0, this.#firstEnd, this.#maxPayload);
    if (more)
      for (const piece of more) this.channel.sendData(this.id, piece, 0, piece.length, this.#maxPayload);
  }

  #finishEnded(): void {
    this.flush();
    this.channel.sendControl({ type: 'end', stream: this.id });
    this.#finish({ kind: 'ended' });
  }

  #abort(outcome: StreamOutcome): void {
    if (this.#done) return;
    this.#pending = undefined;
    this.#first = undefined;
    this.#more = undefined;
    this.#finish(outcome);
    this.#signalAbort();
  }

  /** Tells the forwarder (once) to stop: it aborts the bridge request and sends nothing more. */
  #signalAbort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const onAbort = this.onAbort;
    this.onAbort = undefined;
    onAbort?.();
  }

  #finish(outcome: StreamOutcome): void {
    this.#done = true;
    this.onWritable = undefined;
    this.onDone(this, outcome);
  }
}

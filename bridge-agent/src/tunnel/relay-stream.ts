/**
 * One stream on the relay socket, seen from the agent: it owns the stream's flow-control credit.
 * Payload never exceeds the credit granted; what does not fit waits as one pending chunk (the
 * upstream body is paused meanwhile) and goes out when `credit` arrives.
 *
 * Chunks that arrive within one event-loop turn leave as one data frame at the turn's end (one
 * copy, as before, but one frame, one relay message and one consumer write instead of many).
 * Control frames that must follow the data (`end`, `error`) flush the batch first.
 */
import {
  type AgentFrame,
  type BreachCode,
  DATA_HEADER_BYTES,
  DataKind,
  encodeDataFrame,
  encodeDataFrameParts,
} from '@arena-relay/shared';
import type { UpstreamFailure } from '../upstream/classify.js';
import type { StreamSink } from '../upstream/forward.js';

/** How the relay socket of one session is written to. */
export interface SessionChannel {
  sendControl(frame: AgentFrame): void;
  sendData(frame: Buffer): void;
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
   * Payload granted and waiting for the end of the turn: its first piece, and every piece once
   * there are several. A paced answer brings one chunk a turn, so most batches need no array.
   */
  #first: Buffer | undefined;
  #batch: Buffer[] | undefined;
  #batchBytes = 0;
  #flushScheduled = false;

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
    this.#flush();
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
    const piece = allowed === chunk.length ? chunk : chunk.subarray(0, allowed);
    if (this.#batchBytes === 0) this.#first = piece;
    else if (this.#batch) this.#batch.push(piece);
    else this.#batch = [this.#first!, piece];
    this.#batchBytes += allowed;
    this.#credit -= allowed;
    this.bytesOut += allowed;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushLater);
    }
    return allowed;
  }

  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    if (!this.#done) this.#flush();
  };

  /** Sends the batch as data frames of at most the frame size. */
  #flush(): void {
    if (this.#batchBytes === 0) return;
    const first = this.#first!;
    const parts = this.#batch;
    const total = this.#batchBytes;
    this.#first = undefined;
    this.#batch = undefined;
    this.#batchBytes = 0;
    if (total <= this.#maxPayload) {
      this.channel.sendData(
        parts
          ? encodeDataFrameParts(DataKind.DATA, this.id, parts, total)
          : encodeDataFrame(DataKind.DATA, this.id, first),
      );
      return;
    }
    const joined = parts ? Buffer.concat(parts, total) : first;
    for (let offset = 0; offset < total; offset += this.#maxPayload) {
      const payload = joined.subarray(offset, Math.min(total, offset + this.#maxPayload));
      this.channel.sendData(encodeDataFrameParts(DataKind.DATA, this.id, [payload], payload.length));
    }
  }

  #finishEnded(): void {
    this.#flush();
    this.channel.sendControl({ type: 'end', stream: this.id });
    this.#finish({ kind: 'ended' });
  }

  #abort(outcome: StreamOutcome): void {
    if (this.#done) return;
    this.#pending = undefined;
    this.#first = undefined;
    this.#batch = undefined;
    this.#batchBytes = 0;
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

/**
 * Serves one relay stream from the bridge: sends the request, turns the bridge's odd signalling
 * into `head` / data / `end` / `error` on a StreamSink, and moves body bytes untouched.
 *
 * How each body is moved (the first-event check of event streams) is body-pumps.ts's.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { OpenFrame } from '@arena-relay/shared';
import type { Dispatcher } from 'undici';
import { EventStreamPump, type Pump } from './body-pumps.js';
import type { BridgeClient } from './bridge-client.js';
import { classifyNetworkError, ERROR_BODY_CAP, errorDetail, type UpstreamFailure } from './classify.js';
import type { Dialect } from './dialects/index.js';
import { PlainPump } from './plain-pump.js';

/** Where a stream's frames go. Implemented by the tunnel, which owns flow control. */
export interface StreamSink {
  head(status: number, headers: Record<string, string>): void;
  /** Sends payload bytes; false when out of credit: send nothing more until `onWritable`. */
  write(chunk: Buffer): boolean;
  /** Ends the stream once every written byte has gone out. */
  end(): void;
  fail(failure: UpstreamFailure): void;
  /** Set by the forwarder; called when credit arrives after `write` returned false. */
  onWritable: (() => void) | undefined;
  /** True once the stream was cancelled or failed: nothing more may be sent. */
  readonly aborted: boolean;
  /** Set by the forwarder; called once when the stream is aborted (cancel, socket gone, failure). */
  onAbort: (() => void) | undefined;
}

/**
 * Told about failures that may mean the bridge cannot serve anyone right now: an answer saying so
 * (503, bad key: `status` set) or a network error (refused, reset: no `status`).
 */
export type UnavailableListener = (failure: UpstreamFailure) => void;

/**
 * Serves `open` on `sink` (the stream hub has checked it against allowed-requests.ts). `body`: the request body's bytes as they came in BODY frames
 * (protocol v2), passed to the bridge untouched; without it the `open`'s own `body` (v1) is sent.
 * Never throws; once the sink is aborted it sends nothing more.
 */
export function forward(
  client: BridgeClient,
  open: OpenFrame,
  sink: StreamSink,
  onUnavailable: UnavailableListener,
  body?: Buffer | readonly Buffer[],
): void {
  const fail = (failure: UpstreamFailure): void => {
    if (sink.aborted) return;
    if (failure.code === 'upstream_unavailable') onUnavailable(failure);
    sink.fail(failure);
  };
  try {
    const request = { method: open.method, path: open.path, body: open.body };
    client.dispatch(
      body === undefined ? request : { ...request, bytes: body },
      new Forwarding(sink, fail, client.dialect),
    );
  } catch (error) {
    fail(classifyNetworkError(error));
  }
}

/** A non-2xx answer: its body is read (up to ERROR_BODY_CAP) for the bridge's message. */
type ErrorBody = { status: number; retryAfter: string | undefined; chunks: Buffer[]; size: number };

/**
 * One request to the bridge as an undici dispatch handler: the parser calls in with headers,
 * chunks and the end, on the socket read's own stack. Settles the stream exactly once.
 */
class Forwarding implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #pump: Pump | undefined;
  #errorBody: ErrorBody | undefined;
  #settled = false;
  /** The whole answer has arrived: nothing is left to abort. */
  #ended = false;

  constructor(
    private readonly sink: StreamSink,
    private readonly fail: (failure: UpstreamFailure) => void,
    /** The dialect of the moment the request went out: detection may change the client's later. */
    private readonly dialect: Dialect,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.sink.aborted) return controller.abort(new Error('stream aborted'));
    this.sink.onAbort = this.#onAbort;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (status < 200 || status >= 300) {
      const retryAfter = headers['retry-after'];
      this.#errorBody = {
        status,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
        chunks: [],
        size: 0,
      };
      return;
    }
    const type = String(headers['content-type'] ?? '');
    const stop = (failure: UpstreamFailure) => this.#settle(failure, true);
    this.#pump = type.startsWith('text/event-stream')
      ? new EventStreamPump(this.sink, stop, type, this.dialect)
      : new PlainPump(this.sink, stop, status, type, this.dialect);
    this.sink.onWritable = () => controller.resume();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    const error = this.#errorBody;
    if (error) {
      error.chunks.push(
        error.size + chunk.length > ERROR_BODY_CAP ? chunk.subarray(0, ERROR_BODY_CAP - error.size) : chunk,
      );
      error.size += chunk.length;
      // Enough said: the rest of the body is not read.
      if (error.size >= ERROR_BODY_CAP) this.#settle(this.#statusFailure(error), true);
      return;
    }
    if (!this.#pump!.onChunk(chunk) && !this.#settled) controller.pause();
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#ended = true;
    if (this.#errorBody) return this.#settle(this.#statusFailure(this.#errorBody), false);
    this.#pump!.onEnd();
    if (!this.#settled) this.#settle(undefined, false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#settled) return;
    // An error body that breaks off still tells us what arrived before.
    if (this.#errorBody) return this.#settle(this.#statusFailure(this.#errorBody), false);
    this.#settle(classifyNetworkError(error), false);
  }

  #statusFailure(error: ErrorBody): UpstreamFailure {
    const text = Buffer.concat(error.chunks).toString('utf8');
    return this.dialect.classifyStatus(error.status, errorDetail(text), error.retryAfter, text);
  }

  /** Ends this request once: with `failure` if any, aborting the upstream when it still runs. */
  #settle(failure: UpstreamFailure | undefined, abort: boolean): void {
    this.#settled = true;
    this.sink.onWritable = undefined;
    this.sink.onAbort = undefined;
    if (abort && !this.#ended) this.#controller?.abort(new Error('the agent stopped reading the bridge'));
    if (failure) this.fail(failure);
  }

  readonly #onAbort = (): void => {
    if (!this.#settled) this.#settle(undefined, true);
  };
}

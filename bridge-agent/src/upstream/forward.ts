/**
 * Serves one relay stream from the bridge: sends the request, turns the bridge's odd signalling
 * into `head` / data / `end` / `error` on a StreamSink, and moves body bytes untouched.
 *
 * Event streams: `head` is held until the first complete SSE event has arrived, so an in-band
 * bridge error there becomes an `error` before anything reaches the consumer (the relay may then
 * retry elsewhere). Later chunks are checked with one `indexOf` each and never parsed.
 */
import type { Readable } from 'node:stream';
import { type OpenFrame, type Usage, usageSchema } from '@arena-relay/shared';
import type { BridgeClient } from './bridge-client.js';
import {
  classifyNetworkError,
  classifyStatus,
  clip,
  errorDetail,
  readCapped,
  type UpstreamFailure,
} from './classify.js';
import { firstEventError, laterEventError, MarkerScanner } from './in-band-error.js';

/** Where a stream's frames go. Implemented by the tunnel, which owns flow control. */
export interface StreamSink {
  head(status: number, headers: Record<string, string>): void;
  /** Sends payload bytes; false when out of credit: send nothing more until `onWritable`. */
  write(chunk: Buffer): boolean;
  /** Ends the stream once every written byte has gone out. */
  end(usage?: Usage): void;
  fail(failure: UpstreamFailure): void;
  /** Set by the forwarder; called when credit arrives after `write` returned false. */
  onWritable: (() => void) | undefined;
}

/** Told about failures that mean the bridge cannot serve anyone right now (503, refused, bad key). */
export type UnavailableListener = (reason: string) => void;

/** Largest first event held back before `head`; beyond it the bytes flow unchecked. */
const FIRST_EVENT_LIMIT = 64 * 1024;
/** Largest non-stream body kept whole to read its `usage`. */
const USAGE_BODY_LIMIT = 1024 * 1024;
const EVENT_END = Buffer.from('\n\n');

/** Only the bridge's client API may be reached through the tunnel. */
const isBridgeApiPath = (path: string): boolean => path.startsWith('/v1/');

/** Serves `open` on `sink`. Never rejects; after `signal` aborts it sends nothing more. */
export async function forward(
  client: BridgeClient,
  open: OpenFrame,
  sink: StreamSink,
  signal: AbortSignal,
  onUnavailable: UnavailableListener,
): Promise<void> {
  const fail = (failure: UpstreamFailure): void => {
    if (signal.aborted) return;
    if (failure.code === 'upstream_unavailable') onUnavailable(clip(failure.message, 512));
    sink.fail(failure);
  };
  if (!isBridgeApiPath(open.path)) {
    return fail({
      code: 'upstream_rejected',
      status: 404,
      message: `the agent serves only /v1/ paths, not ${open.path}`,
    });
  }
  try {
    const response = await client.request(open, signal);
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      return fail(classifyStatus(status, errorDetail(await readCapped(response.body))));
    }
    const type = String(response.headers['content-type'] ?? '');
    const pump = type.startsWith('text/event-stream')
      ? new EventStreamPump(response.body, sink, type)
      : new PlainPump(response.body, sink, status, type);
    await pump.run(signal);
    if (pump.failure) fail(pump.failure);
  } catch (error) {
    fail(classifyNetworkError(error));
  }
}

/** Moves a body into the sink with credit-driven pause/resume. Subclasses decide per chunk. */
abstract class Pump {
  failure: UpstreamFailure | undefined;

  constructor(
    protected readonly body: Readable,
    protected readonly sink: StreamSink,
  ) {}

  /** Handles one chunk; returns false to pause until the sink is writable again. */
  protected abstract onChunk(chunk: Buffer): boolean;
  protected abstract onEnd(): void;

  /** Stops reading, aborts the upstream request and records why. */
  protected stop(failure: UpstreamFailure): void {
    this.failure = failure;
    this.body.destroy();
  }

  run(signal: AbortSignal): Promise<void> {
    const { body, sink } = this;
    return new Promise((resolve) => {
      let ended = false;
      sink.onWritable = () => body.resume();
      body.on('data', (chunk: Buffer) => {
        // A destroyed body can still deliver chunks it had buffered: after a failure, drop them.
        if (this.failure) return;
        if (!this.onChunk(chunk) && !this.failure) body.pause();
      });
      body.on('end', () => {
        ended = true;
        if (!this.failure) this.onEnd();
        resolve();
      });
      body.on('error', (error) => {
        if (!this.failure && !signal.aborted) this.failure = classifyNetworkError(error);
      });
      body.on('close', () => {
        if (!ended && !this.failure && !signal.aborted) {
          this.failure = { code: 'upstream_error', message: 'the bridge closed the body before its end' };
        }
        resolve();
      });
    });
  }
}

class EventStreamPump extends Pump {
  readonly #scanner = new MarkerScanner();
  readonly #type: string;
  /** Bytes held back until the first event is complete; undefined once `head` went out. */
  #held: Buffer | undefined = Buffer.alloc(0);

  constructor(body: Readable, sink: StreamSink, type: string) {
    super(body, sink);
    this.#type = type;
  }

  protected onChunk(chunk: Buffer): boolean {
    if (this.#held === undefined) {
      // Hot path: one indexOf, then the bytes go out as they are.
      if (this.#scanner.scan(chunk)) {
        this.stop({ code: 'upstream_error', status: 200, message: clip(laterEventError(chunk), 8192) });
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
      this.stop({ code: 'upstream_error', status: 200, message: clip(message, 8192) });
      return false;
    }
    const rest = held.subarray(first.length);
    if (this.#scanner.scan(rest)) {
      this.stop({ code: 'upstream_error', status: 200, message: clip(laterEventError(rest), 8192) });
      return false;
    }
    this.sink.head(200, { 'content-type': this.#type });
    return this.sink.write(held);
  }

  protected onEnd(): void {
    if (this.#held !== undefined) {
      // The body ended before a complete first event: pass on whatever came.
      const held = this.#held;
      this.#held = undefined;
      const message = firstEventError(held);
      if (message !== undefined) {
        this.failure = { code: 'upstream_error', status: 200, message: clip(message, 8192) };
        return;
      }
      this.sink.head(200, { 'content-type': this.#type });
      if (held.length > 0) this.sink.write(held);
    }
    this.sink.end();
  }
}

/** Any other 2xx body (the bridge's non-stream JSON): head at once, bytes, end with usage. */
class PlainPump extends Pump {
  readonly #chunks: Buffer[] | undefined;
  #size = 0;

  constructor(body: Readable, sink: StreamSink, status: number, type: string) {
    super(body, sink);
    this.#chunks = type.includes('json') ? [] : undefined;
    sink.head(status, type ? { 'content-type': type } : {});
  }

  protected onChunk(chunk: Buffer): boolean {
    if (this.#chunks && this.#size + chunk.length <= USAGE_BODY_LIMIT) this.#chunks.push(chunk);
    this.#size += chunk.length;
    return this.sink.write(chunk);
  }

  protected onEnd(): void {
    this.sink.end(this.#usage());
  }

  /** `usage` of a whole, small JSON body; the non-stream body is parsed once, never a stream. */
  #usage(): Usage | undefined {
    if (!this.#chunks || this.#size > USAGE_BODY_LIMIT) return undefined;
    try {
      const body = JSON.parse(Buffer.concat(this.#chunks).toString('utf8')) as { usage?: unknown };
      const usage = usageSchema.safeParse(body.usage);
      return usage.success ? usage.data : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * The streams of the current relay session: admits `open` (up to max_concurrency, none while
 * draining), routes `cancel`/`credit` to their stream, answers `health`, and aborts everything
 * when the socket goes away. Also keeps the request counters shown on `/stats`.
 */
import type { OpenFrame, RelayFrame, StreamErrorCode, WelcomeFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import type { BridgeClient } from '../upstream/bridge-client.js';
import { forward } from '../upstream/forward.js';
import type { Readiness } from '../upstream/readiness.js';
import { RelayStream, type SessionChannel, type StreamOutcome } from './relay-stream.js';

export type HubOptions = {
  bridge: BridgeClient;
  readiness: Readiness;
  maxConcurrency: number;
  logger: Logger;
  /** One info line per finished request (model, status, bytes, duration). */
  requestLogging: boolean;
};

/** Counters behind `/stats`. */
export type HubStats = {
  requests: number;
  successes: number;
  failures: number;
  cancelled: number;
  refused: number;
  in_flight: number;
  bytes_out: number;
};

type Session = { channel: SessionChannel; welcome: WelcomeFrame };

export class StreamHub {
  readonly #options: HubOptions;
  readonly #streams = new Map<number, RelayStream>();
  readonly #idleWaiters: (() => void)[] = [];
  #session: Session | undefined;
  #draining = false;
  #closing = false;
  readonly #counts = { requests: 0, successes: 0, failures: 0, cancelled: 0, refused: 0, bytes_out: 0 };

  constructor(options: HubOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#streams.size;
  }

  stats(): HubStats {
    let inFlightBytes = 0;
    for (const stream of this.#streams.values()) inFlightBytes += stream.bytesOut;
    return {
      ...this.#counts,
      bytes_out: this.#counts.bytes_out + inFlightBytes,
      in_flight: this.#streams.size,
    };
  }

  /** A new session was welcomed: streams open on it from now on. */
  attach(channel: SessionChannel, welcome: WelcomeFrame): void {
    this.#session = { channel, welcome };
    this.#draining = false;
  }

  /** The session's socket is gone: nobody is left to read its streams. */
  detach(): void {
    this.#session = undefined;
    this.abortAll();
  }

  /** Refuses new streams from now on, for good (the agent is shutting down). */
  stopAccepting(): void {
    this.#closing = true;
  }

  /** Resolves once no stream is in flight. */
  idle(): Promise<void> {
    if (this.#streams.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  abortAll(): void {
    for (const stream of [...this.#streams.values()]) stream.abort();
  }

  /** Handles a frame of the current session. Never throws. */
  handle(frame: RelayFrame): void {
    switch (frame.type) {
      case 'open':
        return this.#open(frame);
      case 'cancel':
        return this.#streams.get(frame.stream)?.cancel();
      case 'credit':
        return this.#streams.get(frame.stream)?.grant(frame.bytes);
      case 'drain':
        this.#draining = true;
        this.#options.logger.info({ reason: frame.reason }, 'relay asked to drain: taking no new streams');
        return;
      case 'health':
        return this.#health(frame.id);
      case 'welcome':
        return; // Handled by the link before frames reach the hub.
    }
  }

  #refuse(channel: SessionChannel, stream: number, code: StreamErrorCode, message: string): void {
    this.#counts.refused++;
    channel.sendControl({ type: 'error', stream, code, message });
  }

  #open(frame: OpenFrame): void {
    const session = this.#session;
    if (!session) return;
    const { channel, welcome } = session;
    const max = this.#options.maxConcurrency;
    const live = this.#streams.get(frame.stream);
    if (live) {
      // The relay takes the error as the end of that id, so the live stream can only be dropped.
      this.#refuse(channel, frame.stream, 'protocol_error', `stream ${frame.stream} is already open`);
      return live.abort();
    }
    if (this.#draining || this.#closing) {
      return this.#refuse(channel, frame.stream, 'busy', 'the agent is draining and takes no new streams');
    }
    if (this.#streams.size >= max) {
      return this.#refuse(
        channel,
        frame.stream,
        'busy',
        `the agent is serving its maximum of ${max} streams`,
      );
    }
    const stream = new RelayStream(
      frame.stream,
      welcome.streamWindow,
      welcome.maxFrameBytes,
      channel,
      (done, outcome) => this.#finished(done, outcome, frame),
    );
    this.#streams.set(frame.stream, stream);
    this.#counts.requests++;
    const { bridge, readiness } = this.#options;
    forward(bridge, frame, stream, (failure) => readiness.chatFailed(failure));
  }

  #finished(stream: RelayStream, outcome: StreamOutcome, open: OpenFrame): void {
    this.#streams.delete(stream.id);
    this.#counts.bytes_out += stream.bytesOut;
    if (outcome.kind === 'ended') this.#counts.successes++;
    else if (outcome.kind === 'failed') this.#counts.failures++;
    else this.#counts.cancelled++;
    if (this.#options.requestLogging || outcome.kind === 'failed') this.#log(stream, outcome, open);
    if (this.#streams.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #log(stream: RelayStream, outcome: StreamOutcome, open: OpenFrame): void {
    const model = (open.body as { model?: unknown } | undefined)?.model;
    const log = this.#options.logger.child({ streamId: stream.id });
    const line = {
      method: open.method,
      path: open.path,
      model: typeof model === 'string' ? model : undefined,
      status: stream.status,
      outcome: outcome.kind,
      code: outcome.kind === 'failed' ? outcome.failure.code : undefined,
      bytes: stream.bytesOut,
      durationMs: Math.round(performance.now() - stream.startedAt),
    };
    if (outcome.kind === 'failed') {
      log.warn({ ...line, error: outcome.failure.message }, 'request failed');
    } else {
      log.info(line, 'request finished');
    }
  }

  #health(id: string): void {
    const channel = this.#session?.channel;
    if (!channel) return;
    void this.#options.readiness.probe().then((bridge) => {
      if (this.#session?.channel === channel) channel.sendControl({ type: 'health', id, bridge });
    });
  }
}

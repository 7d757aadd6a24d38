/**
 * The streams of the agent's relay sessions (one per live socket, each named by its link id):
 * admits `open` (within the socket's share of max_concurrency, none while draining), hands
 * `cancel`/`credit`/BODY to their stream, answers `health`, and aborts a socket's streams when it
 * goes away. The frame dispatcher calls one method per frame kind. Also keeps the request
 * counters shown on `/stats`, summed over every socket.
 */
import { Breach, type BreachCode, type OpenFrame, type WelcomeFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { refusedRequest } from '../upstream/allowed-requests.js';
import type { BridgeClient } from '../upstream/bridge-client.js';
import { forward } from '../upstream/forward.js';
import type { Readiness } from '../upstream/readiness.js';
import { RelayStream, type SessionChannel, type StreamOutcome } from './relay-stream.js';
import { BodyIntake, openBreach } from './request-body.js';
import { logFinished } from './request-log.js';

/** Decides, across sockets, whether one more stream may start on a socket; told of every start and end. */
export type Admission = {
  admits(link: number): boolean;
  opened(link: number): void;
  finished(link: number): void;
};

export type HubOptions = {
  bridge: BridgeClient;
  readiness: Readiness;
  maxConcurrency: number;
  /** Shares max_concurrency among sockets; without it each socket may use all of it. */
  admission?: Admission;
  logger: Logger;
  /** One info line per finished request (model, status, bytes, duration). */
  requestLogging: boolean;
  /** A stream on socket `link` finished (told once per stream, never per chunk): slots may have freed up. */
  onFinished?(link: number, outcome: StreamOutcome, open: OpenFrame): void;
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

type Session = {
  channel: SessionChannel;
  welcome: WelcomeFrame;
  streams: Map<number, RelayStream>;
  /** v2 request bodies still arriving. */
  bodies: BodyIntake;
  draining: boolean;
};

export class StreamHub {
  readonly #options: HubOptions;
  readonly #sessions = new Map<number, Session>();
  readonly #idleWaiters: (() => void)[] = [];
  #inFlight = 0;
  #closing = false;
  readonly #counts = { requests: 0, successes: 0, failures: 0, cancelled: 0, refused: 0, bytes_out: 0 };

  constructor(options: HubOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Streams in flight on one socket. */
  inFlightOn(link: number): number {
    return this.#sessions.get(link)?.streams.size ?? 0;
  }

  stats(): HubStats {
    let inFlightBytes = 0;
    for (const session of this.#sessions.values())
      for (const stream of session.streams.values()) inFlightBytes += stream.bytesOut;
    return {
      ...this.#counts,
      bytes_out: this.#counts.bytes_out + inFlightBytes,
      in_flight: this.#inFlight,
    };
  }

  /** Socket `link` was welcomed: streams open on it from now on. */
  attach(link: number, channel: SessionChannel, welcome: WelcomeFrame): void {
    this.detach(link);
    this.#sessions.set(link, {
      channel,
      welcome,
      streams: new Map(),
      bodies: new BodyIntake(),
      draining: false,
    });
  }

  /** Socket `link` is gone: nobody is left to read its streams. */
  detach(link: number): void {
    const session = this.#sessions.get(link);
    if (!session) return;
    for (const stream of [...session.streams.values()]) stream.abort();
    this.#sessions.delete(link);
  }

  /** Refuses new streams from now on, for good (the agent is shutting down). */
  stopAccepting(): void {
    this.#closing = true;
  }

  /** Resolves once no stream is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  abortAll(): void {
    for (const session of this.#sessions.values())
      for (const stream of [...session.streams.values()]) stream.abort();
  }

  /** `open` on socket `link`: admitted, or refused with an `error` frame. */
  open(link: number, frame: OpenFrame): void {
    const session = this.#sessions.get(link);
    if (session) this.#open(link, session, frame);
  }

  /** `cancel`: the relay gave up on `stream`. */
  cancel(link: number, stream: number): void {
    this.#sessions.get(link)?.streams.get(stream)?.cancel();
  }

  /** `credit`: the relay takes `bytes` more of `stream`. */
  credit(link: number, stream: number, bytes: number): void {
    this.#sessions.get(link)?.streams.get(stream)?.grant(bytes);
  }

  /** `drain`: socket `link` takes no new streams; its streams in flight run on. */
  drain(link: number, reason: string | undefined): void {
    const session = this.#sessions.get(link);
    if (!session) return;
    session.draining = true;
    this.#options.logger.info({ reason }, 'relay asked to drain: taking no new streams');
  }

  /** `goaway`: the relay sends no new stream on socket `link`; its streams in flight run on. */
  goAway(link: number): void {
    const session = this.#sessions.get(link);
    if (session) session.draining = true;
  }

  /** `health`: probes the bridge and answers on the socket that asked. */
  health(link: number, id: string): void {
    const session = this.#sessions.get(link);
    if (!session) return;
    void this.#options.readiness.probe().then((bridge) => {
      session.channel.sendControl({ type: 'health', id, bridge });
    });
  }

  /** A BODY data frame of socket `link` (protocol v2): part of the request body of `stream`. */
  body(link: number, stream: number, payload: Buffer): void {
    const session = this.#sessions.get(link);
    if (!session) return;
    const live = session.streams.get(stream);
    const breach = session.bodies.receive(stream, payload, live !== undefined);
    if (!breach) return;
    if (breach.scope === 'socket') return session.channel.protocolError(breach.code, breach.reason);
    live?.fail({ code: 'protocol_error', message: breach.reason });
  }

  /** The relay may not have the agent start this stream: `busy`, or a breach (logged with its code). */
  #refuse(channel: SessionChannel, stream: number, message: string, breach?: BreachCode): void {
    this.#counts.refused++;
    // Only a broken or hostile relay breaks the rules of an open: worth a line for the owner.
    if (breach) this.#options.logger.warn({ stream, breach }, message);
    channel.sendControl({ type: 'error', stream, code: breach ? 'protocol_error' : 'busy', message });
  }

  #open(link: number, session: Session, frame: OpenFrame): void {
    const { channel, welcome, streams, bodies } = session;
    const max = this.#options.maxConcurrency;
    bodies.opened(frame.stream);
    const live = streams.get(frame.stream);
    if (live) {
      // The relay takes the error as the end of that id, so the live stream can only be dropped.
      this.#refuse(channel, frame.stream, `stream ${frame.stream} is already open`, Breach.STREAM_REOPENED);
      return live.abort();
    }
    if (session.draining || this.#closing) {
      return this.#refuse(channel, frame.stream, 'the agent is draining and takes no new streams');
    }
    const admission = this.#options.admission;
    if (admission ? !admission.admits(link) : streams.size >= max) {
      return this.#refuse(channel, frame.stream, `the agent is serving its maximum of ${max} streams`);
    }
    const breach = openBreach(frame, welcome.protocol ?? 1);
    if (breach) return this.#refuse(channel, frame.stream, breach, Breach.BODY_ANNOUNCEMENT);
    const refused = refusedRequest(frame);
    if (refused) return this.#refuse(channel, frame.stream, refused, Breach.REQUEST_NOT_ALLOWED);
    const stream = new RelayStream(
      frame.stream,
      welcome.streamWindow,
      welcome.maxFrameBytes,
      channel,
      (done, outcome) => {
        bodies.drop(done.id);
        this.#finished(link, streams, done, outcome, frame);
      },
    );
    streams.set(frame.stream, stream);
    this.#inFlight++;
    admission?.opened(link);
    this.#counts.requests++;
    const { bridge, readiness } = this.#options;
    const start = (body?: Buffer | readonly Buffer[]) =>
      forward(bridge, frame, stream, (failure) => readiness.chatFailed(failure), body);
    if (frame.bodyBytes === undefined) start();
    else bodies.expect(frame, frame.bodyBytes, start);
  }

  #finished(
    link: number,
    streams: Map<number, RelayStream>,
    stream: RelayStream,
    outcome: StreamOutcome,
    open: OpenFrame,
  ): void {
    if (streams.get(stream.id) !== stream) return;
    streams.delete(stream.id);
    this.#inFlight--;
    this.#options.admission?.finished(link);
    this.#counts.bytes_out += stream.bytesOut;
    if (outcome.kind === 'ended') {
      this.#counts.successes++;
      this.#options.readiness.served();
    } else if (outcome.kind === 'failed') this.#counts.failures++;
    else this.#counts.cancelled++;
    if (this.#options.requestLogging || outcome.kind === 'failed')
      logFinished(this.#options.logger, stream, outcome, open);
    if (this.#inFlight === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    this.#options.onFinished?.(link, outcome, open);
  }
}

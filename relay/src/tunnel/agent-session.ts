/**
 * One connected agent: its socket, what it advertised, and the streams multiplexed on it.
 * Every frame is validated here; a frame that breaks the protocol closes this socket (with the
 * reason) and fails its streams — nothing thrown ever leaves a socket event handler.
 */
import { isUtf8 } from 'node:buffer';
import {
  type AgentFrame,
  CloseCode,
  type Corkable,
  closeReason,
  decodeDataFrame,
  type HealthFrame,
  type HelloFrame,
  MAX_OPEN_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseAgentFrame,
  type RelayFrame,
  tickCorker,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { OpenRequest, RoutableAgent } from '../routing/routable-agent.js';
import type { ClientRecord } from '../store/store.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from './stream.js';

export type SessionOptions = {
  sessionId: string;
  relayId: string;
  client: ClientRecord;
  remoteAddress: string;
  heartbeatMs: number;
  streamWindow: number;
  maxFrameBytes: number;
  /** How long an agent may take to say hello, in ms. */
  helloTimeoutMs: number;
  logger: Logger;
  onReady(session: AgentSession): void;
  onClose(session: AgentSession): void;
  /** A stream ended or the agent became ready: capacity may have freed up. */
  onCapacity(session: AgentSession): void;
};

type LiveStream = { handlers: StreamHandlers; credit: number; headSeen: boolean };

export class AgentSession implements RoutableAgent {
  readonly id: string;
  readonly client: ClientRecord;
  readonly relayId: string;
  readonly remoteAddress: string;
  readonly connectedAt = new Date();
  hello: HelloFrame | undefined;
  models: ReadonlySet<string> = new Set();
  ready = false;
  readyReason: string | undefined;
  draining = false;
  /** Its relay said `goaway`: the agent is moving to another relay (routers wait for it there). */
  goingAway = false;
  lastHeartbeatAt: Date | undefined;
  rttMs: number | undefined;
  closed = false;
  /** Exponentially weighted moving average of time to first byte, in ms (α = 0.2). */
  ttfbEwmaMs: number | undefined;
  /** Slots promised by the router to requests that have not opened their stream yet. */
  reserved = 0;
  private sharedSlots: number | undefined;

  private readonly streams = new Map<number, LiveStream>();
  private nextStreamId = 1;
  private pongSeen = true;
  private missedHeartbeats = 0;
  private pingSentAt = 0;
  private readonly log: Logger;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly cork: () => void;
  /** Health round trips awaiting the agent's answer, by request id. */
  private readonly healthWaiters = new Map<string, (answer: HealthFrame | undefined) => void>();
  private nextHealthId = 1;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: SessionOptions,
  ) {
    this.id = options.sessionId;
    this.client = options.client;
    this.relayId = options.relayId;
    this.remoteAddress = options.remoteAddress;
    this.log = options.logger;
    // ws keeps its net.Socket private; corking it per tick batches opens and credits into one writev.
    const socket = (ws as unknown as { _socket?: Corkable })._socket;
    this.cork = socket ? tickCorker(socket) : () => {};
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => this.onPong());
    ws.on('close', (code, reason) => this.onSocketClosed(code, reason.toString()));
    ws.on('error', (error) => this.log.warn({ err: error.message }, 'agent socket error'));
    this.helloTimer = setTimeout(
      () => this.fail(CloseCode.PROTOCOL_ERROR, 'no hello received in time'),
      options.helloTimeoutMs,
    );
  }

  /** Streams in flight on this socket. */
  get inFlight(): number {
    return this.streams.size;
  }

  get maxConcurrency(): number {
    return this.hello?.maxConcurrency ?? 1;
  }

  /** True when the agent said hello, is ready and not draining. */
  get routable(): boolean {
    return this.hello !== undefined && this.ready && !this.draining && !this.closed;
  }

  /** Share of capacity in use, reservations included (0 = idle, 1 = full). */
  /**
   * Streams this socket may carry: the agent's share for it (`hello.slots`, then `capacity`
   * frames) when it shares max_concurrency among sockets to several relays, else all of it.
   */
  get slots(): number {
    return this.sharedSlots ?? this.maxConcurrency;
  }

  get load(): number {
    return this.slots === 0 ? 1 : (this.streams.size + this.reserved) / this.slots;
  }

  get hasCapacity(): boolean {
    return this.streams.size + this.reserved < this.slots;
  }

  get clientId(): string {
    return this.client.id;
  }

  /** Identity that survives reconnects of the same agent process: client id + instance id. */
  get agentKey(): string {
    return `${this.client.id}/${this.hello?.instanceId ?? this.id}`;
  }

  /** Takes a slot for a request that will call `open` shortly. */
  reserve(): void {
    this.reserved++;
  }

  /** Gives back a slot reserved by `reserve` that will not be used. */
  release(): void {
    if (this.reserved > 0) this.reserved--;
    this.options.onCapacity(this);
  }

  recordTtfb(ms: number): void {
    this.ttfbEwmaMs = this.ttfbEwmaMs === undefined ? ms : this.ttfbEwmaMs * 0.8 + ms * 0.2;
  }

  /** Opens a stream on this agent. Handlers fire synchronously from socket events. */
  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle {
    if (this.reserved > 0) this.reserved--;
    const id = this.nextStreamId++;
    const frame = openFrame(id, request);
    // The agent would close its whole socket on a larger message; the body limit keeps requests
    // below this, so only a body that grew in re-encoding could get here.
    const bytes =
      typeof frame !== 'string' || frame.length > MAX_OPEN_FRAME_BYTES / 3 ? Buffer.byteLength(frame) : 0;
    if (bytes > MAX_OPEN_FRAME_BYTES) {
      queueMicrotask(() => {
        handlers.onFailure({
          code: 'upstream_rejected',
          status: 413,
          message: `the request is larger than an agent accepts (${MAX_OPEN_FRAME_BYTES} bytes)`,
        });
        this.options.onCapacity(this);
      });
      return { id, cancel: () => undefined, grant: () => undefined };
    }
    const live: LiveStream = { handlers, credit: this.options.streamWindow, headSeen: false };
    this.streams.set(id, live);
    this.sendText(frame);
    return {
      id,
      cancel: (reason) => {
        if (!this.streams.delete(id)) return;
        this.send({ type: 'cancel', stream: id, reason });
        this.options.onCapacity(this);
      },
      grant: (bytes) => {
        const stream = this.streams.get(id);
        if (!stream || bytes <= 0) return;
        stream.credit += bytes;
        this.send({ type: 'credit', stream: id, bytes });
      },
    };
  }

  /** Stops routing new streams here and asks the agent to do the same. */
  drain(reason: string): void {
    this.draining = true;
    this.send({ type: 'drain', reason });
  }

  /**
   * Health round trip: sends `{type:'health', id}` and resolves with the agent's answer (which
   * carries its bridge probe), or undefined when the socket closes or `timeoutMs` passes first.
   */
  health(timeoutMs: number): Promise<HealthFrame | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const id = `${this.id}.${this.nextHealthId++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle = (answer: HealthFrame | undefined) => {
        clearTimeout(timer);
        this.healthWaiters.delete(id);
        resolve(answer);
      };
      this.healthWaiters.set(id, settle);
      this.send({ type: 'health', id });
    });
  }

  /** Closes the socket, failing its streams at once. Idempotent. */
  close(code: number, reason: string): void {
    this.fail(code, reason);
  }

  /** Called by the hub once per heartbeat interval. */
  heartbeat(now: number): void {
    if (this.closed) return;
    if (this.pongSeen) {
      this.missedHeartbeats = 0;
    } else if (++this.missedHeartbeats >= 2) {
      this.fail(CloseCode.HEARTBEAT, 'heartbeat timeout: agent missed two pings');
      this.ws.terminate();
      return;
    }
    this.pongSeen = false;
    this.pingSentAt = now;
    this.ws.ping();
  }

  send(frame: RelayFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends a control frame's JSON (a Buffer holds its UTF-8 bytes: still a text message). */
  private sendText(text: string | Buffer): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.cork();
    this.ws.send(text, { binary: false });
  }

  private onPong(): void {
    this.pongSeen = true;
    const now = Date.now();
    this.lastHeartbeatAt = new Date(now);
    if (this.pingSentAt) this.rttMs = now - this.pingSentAt;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.pongSeen = true;
    if (isBinary) this.onData(data);
    else this.onControl(data.toString('utf8'));
  }

  /** The hot path: one header read, one map lookup, one credit check, then the bytes move on. */
  private onData(data: Buffer): void {
    const frame = decodeDataFrame(data);
    if (!frame) return this.fail(CloseCode.PROTOCOL_ERROR, 'malformed data frame');
    const stream = this.streams.get(frame.stream);
    if (!stream) {
      // A stream the relay already cancelled or finished may still have frames in flight.
      if (frame.stream < this.nextStreamId) return;
      return this.fail(CloseCode.PROTOCOL_ERROR, `data for stream ${frame.stream}, which was never opened`);
    }
    if (!stream.headSeen)
      return this.fail(CloseCode.PROTOCOL_ERROR, `data before head on stream ${frame.stream}`);
    stream.credit -= frame.payload.byteLength;
    if (stream.credit < 0)
      return this.fail(CloseCode.PROTOCOL_ERROR, `stream ${frame.stream} exceeded its credit`);
    stream.handlers.onData(frame.payload);
  }

  private onControl(text: string): void {
    const parsed = parseAgentFrame(text);
    if (!parsed.ok) return this.fail(CloseCode.PROTOCOL_ERROR, parsed.reason);
    const frame = parsed.frame;
    if (!this.hello && frame.type !== 'hello')
      return this.fail(CloseCode.PROTOCOL_ERROR, 'first frame must be hello');
    this.dispatch(frame);
  }

  private dispatch(frame: AgentFrame): void {
    switch (frame.type) {
      case 'hello':
        return this.onHello(frame);
      case 'head': {
        const stream = this.streamFor(frame.stream);
        if (!stream) return;
        if (stream.headSeen)
          return this.fail(CloseCode.PROTOCOL_ERROR, `second head on stream ${frame.stream}`);
        stream.headSeen = true;
        return stream.handlers.onHead(frame.status, frame.headers);
      }
      case 'end': {
        const stream = this.streamFor(frame.stream);
        if (!stream) return;
        this.streams.delete(frame.stream);
        this.options.onCapacity(this);
        if (!stream.headSeen) {
          return stream.handlers.onFailure({
            code: 'protocol_error',
            message: 'agent ended a stream without a head',
          });
        }
        return stream.handlers.onEnd();
      }
      case 'error': {
        const stream = this.streamFor(frame.stream);
        if (!stream) return;
        this.streams.delete(frame.stream);
        this.options.onCapacity(this);
        const failure: StreamFailure = { code: frame.code, message: frame.message };
        if (frame.status !== undefined) failure.status = frame.status;
        return stream.handlers.onFailure(failure);
      }
      case 'models':
        this.models = new Set(frame.models);
        this.options.onCapacity(this);
        return;
      case 'ready':
        this.ready = frame.ready;
        this.readyReason = frame.reason;
        if (frame.ready) this.options.onCapacity(this);
        return;
      case 'capacity':
        this.sharedSlots = frame.slots;
        // The echo tells the agent this share is in force: opens sent before it arrive first.
        this.send(frame);
        this.options.onCapacity(this);
        return;
      case 'health':
        // Unsolicited or late answers are harmless: no waiter, nothing happens.
        return this.healthWaiters.get(frame.id)?.(frame);
    }
  }

  /** The live stream a frame names; undefined (frame dropped) when it already ended. */
  private streamFor(id: number): LiveStream | undefined {
    const stream = this.streams.get(id);
    if (!stream && id >= this.nextStreamId) {
      this.fail(CloseCode.PROTOCOL_ERROR, `frame for stream ${id}, which was never opened`);
    }
    return stream;
  }

  private onHello(frame: HelloFrame): void {
    if (this.hello) return this.fail(CloseCode.PROTOCOL_ERROR, 'hello sent twice');
    if (frame.version !== PROTOCOL_VERSION) {
      return this.fail(CloseCode.PROTOCOL_ERROR, `unsupported protocol version ${frame.version}`);
    }
    if (frame.clientId !== undefined && frame.clientId !== this.client.id) {
      return this.fail(CloseCode.POLICY, 'client id does not match the token');
    }
    clearTimeout(this.helloTimer);
    this.hello = frame;
    this.models = new Set(frame.models);
    this.ready = frame.ready;
    this.readyReason = frame.readyReason;
    this.sharedSlots = frame.slots;
    this.send({
      type: 'welcome',
      sessionId: this.id,
      heartbeatMs: this.options.heartbeatMs,
      streamWindow: this.options.streamWindow,
      maxFrameBytes: this.options.maxFrameBytes,
      relayId: this.relayId,
    });
    this.options.onReady(this);
  }

  private fail(code: number, reason: string): void {
    if (this.closed) return;
    if (code === CloseCode.PROTOCOL_ERROR || code === CloseCode.POLICY)
      this.log.warn({ reason }, 'closing agent socket');
    this.markClosed(reason);
    this.ws.close(code, closeReason(reason));
    // A peer that never answers the close handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private onSocketClosed(code: number, reason: string): void {
    this.log.info({ code, reason }, 'agent disconnected');
    this.markClosed('the agent disconnected');
  }

  private markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.handlers.onFailure({ code: 'agent_gone', message: reason });
    for (const settle of [...this.healthWaiters.values()]) settle(undefined);
    this.options.onClose(this);
  }
}

const CLOSE_BRACE = Buffer.from('}');

/**
 * The `open` frame: JSON text, or its UTF-8 bytes when the consumer's own body bytes go in as
 * they are (JSON the relay has parsed; bytes that are not valid UTF-8 are re-encoded instead, as
 * a text frame must be UTF-8).
 */
function openFrame(stream: number, request: OpenRequest): string | Buffer {
  const { bodyJson, ...rest } = request;
  if (bodyJson === undefined || !isUtf8(bodyJson)) return JSON.stringify({ type: 'open', stream, ...rest });
  const { body: _sentAsBytes, ...head } = rest;
  const start = Buffer.from(`${JSON.stringify({ type: 'open', stream, ...head }).slice(0, -1)},"body":`);
  return Buffer.concat([start, bodyJson, CLOSE_BRACE]);
}

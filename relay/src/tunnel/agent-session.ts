/**
 * One connected agent: what it advertised (set by its session frames: session-frames.ts), and the
 * parts that serve its socket (stream table and credit, heartbeat, health calls, frame receiver,
 * sender, `open` encoder) behind the RoutableAgent surface the router uses. A frame that breaks
 * the protocol closes this socket and fails its streams; nothing thrown ever leaves a socket
 * event handler.
 */
import {
  Breach,
  type BreachCode,
  type BridgeReasonCode,
  CloseCode,
  closeReason,
  type HealthFrame,
  type HelloFrame,
  PROTOCOL_VERSION,
  type RelayFrame,
} from '@arena-relay/shared';
import type { OpenRequest, RoutableAgent } from '../routing/routable-agent.js';
import type { ClientRecord } from '../store/store.js';
import { ewma } from './ewma.js';
import { FrameReceiver, type ReceiverHost, type SessionFrame } from './frame-receiver.js';
import { welcomeFrame } from './handshake.js';
import { HealthCalls } from './health-calls.js';
import { Liveness } from './liveness.js';
import { Sender } from './sender.js';
import { type AdvertisingSession, applySessionFrame } from './session-frames.js';
import type { SessionOptions, SessionSocket } from './session-options.js';
import type { StreamHandle, StreamHandlers } from './stream.js';
import { type OpenTarget, openStream } from './stream-opener.js';
import { StreamTable } from './stream-table.js';

export class AgentSession implements RoutableAgent, ReceiverHost, OpenTarget, AdvertisingSession {
  readonly id: string;
  readonly client: ClientRecord;
  readonly relayId: string;
  readonly remoteAddress: string;
  readonly connectedAt = new Date();
  hello: HelloFrame | undefined;
  /** The protocol revision agreed in hello/welcome (1 until then). */
  protocol = PROTOCOL_VERSION;
  models: ReadonlySet<string> = new Set();
  ready = false;
  readyReason: string | undefined;
  /** Why the agent's bridge is not serving, as the agent classified it (undefined while ready). */
  readyCode: BridgeReasonCode | undefined;
  draining = false;
  /** The agent version this relay last offered the agent (package/agent-updates.ts); undefined: none. */
  updateOffered: string | undefined;
  /** The agent said it did not take that offer, and why (cleared when the offer changes or is withdrawn). */
  updateFailure: { version: string; outcome: 'refused' | 'failed'; reason: string } | undefined;
  /** Its relay said `goaway`: the agent is moving to another relay (routers wait for it there). */
  goingAway = false;
  closed = false;
  /** Moving average of time to first byte, in ms (routing/ewma.ts). */
  ttfbEwmaMs: number | undefined;
  readonly streams: StreamTable;
  /** The agent's share of slots on this socket, when it shares max_concurrency among relays. */
  slotShare: number | undefined;
  private readonly liveness: Liveness;
  private readonly healthCalls: HealthCalls;
  readonly sender: Sender;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly ws: SessionSocket,
    private readonly options: SessionOptions,
  ) {
    this.id = options.sessionId;
    this.client = options.client;
    this.relayId = options.relayId;
    this.remoteAddress = options.remoteAddress;
    this.streams = new StreamTable(options.streamWindow);
    const silent = () => this.fail(CloseCode.HEARTBEAT, 'heartbeat timeout: agent missed two pings');
    this.liveness = new Liveness(ws, silent);
    this.healthCalls = new HealthCalls(this.id);
    this.sender = new Sender(ws, options.socket);
    const receiver = new FrameReceiver(this);
    ws.on('message', (data, isBinary) => {
      if (this.closed) return;
      this.liveness.traffic();
      receiver.receive(data as Buffer, isBinary);
    });
    ws.on('pong', () => this.liveness.pong());
    ws.on('close', (code, reason) => {
      options.logger.info({ code, reason: reason.toString() }, 'agent disconnected');
      this.markClosed('the agent disconnected');
    });
    ws.on('error', (error) => options.logger.warn({ err: error.message }, 'agent socket error'));
    const late = () =>
      this.fail(CloseCode.PROTOCOL_ERROR, 'no hello received in time', Breach.HANDSHAKE_TIMEOUT);
    this.helloTimer = setTimeout(late, options.helloTimeoutMs);
  }

  /** Streams in flight on this socket. */
  get inFlight(): number {
    return this.streams.size;
  }

  get maxConcurrency(): number {
    return this.hello?.maxConcurrency ?? 1;
  }

  /** The longest prompt its bridge takes, in characters (`hello.promptLimitChars`); undefined: no known limit. */
  get promptLimitChars(): number | undefined {
    return this.hello?.promptLimitChars;
  }

  /** True when the agent said hello, is ready and not draining. */
  get routable(): boolean {
    return this.hello !== undefined && this.ready && !this.draining && !this.closed;
  }

  /**
   * Streams this socket may carry: the agent's share for it (`hello.slots`, then `capacity`
   * frames) when it shares max_concurrency among sockets to several relays, else all of it.
   */
  get slots(): number {
    return this.slotShare ?? this.maxConcurrency;
  }

  /** Share of capacity in use, reservations included (0 = idle, 1 = full). */
  get load(): number {
    return this.slots === 0 ? 1 : this.streams.used / this.slots;
  }

  get hasCapacity(): boolean {
    return this.streams.used < this.slots;
  }

  get clientId(): string {
    return this.client.id;
  }

  /** Identity that survives reconnects of the same agent process: client id + instance id. */
  get agentKey(): string {
    return `${this.client.id}/${this.hello?.instanceId ?? this.id}`;
  }

  get lastHeartbeatAt(): Date | undefined {
    return this.liveness.lastHeartbeatAt;
  }

  get rttMs(): number | undefined {
    return this.liveness.rttMs;
  }

  /** Takes a slot for a request that will call `open` shortly. */
  reserve(): void {
    this.streams.reserve();
  }

  /** Gives back a slot reserved by `reserve` that will not be used. */
  release(): void {
    this.streams.unreserve();
    this.options.onCapacity(this);
  }

  recordTtfb(ms: number): void {
    this.ttfbEwmaMs = ewma(this.ttfbEwmaMs, ms);
  }

  /** Opens a stream on this agent. Handlers fire synchronously from socket events. */
  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle {
    this.streams.unreserve();
    return openStream(this, request, handlers);
  }

  /** Stops routing new streams here and asks the agent to do the same. */
  drain(reason: string): void {
    this.draining = true;
    this.send({ type: 'drain', reason });
  }

  /**
   * Health round trip: resolves with the agent's answer (which carries its bridge probe), or
   * undefined when the socket closes or `timeoutMs` passes first.
   */
  health(timeoutMs: number): Promise<HealthFrame | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return this.healthCalls.call((frame) => this.send(frame), timeoutMs);
  }

  /** Closes the socket, failing its streams at once. Idempotent. */
  close(code: number, reason: string): void {
    this.fail(code, reason);
  }

  /** Called by the hub once per heartbeat interval. */
  heartbeat(now: number): void {
    if (!this.closed) this.liveness.tick(now);
  }

  /** Sends a control frame (nothing once the socket is closing). */
  send(frame: RelayFrame): void {
    this.sender.frame(frame);
  }

  onSessionFrame(frame: SessionFrame): void {
    applySessionFrame(this, frame);
  }

  welcomed(): void {
    clearTimeout(this.helloTimer);
    this.send(welcomeFrame(this.options, this.protocol, this.hello?.autoUpdate === true));
    this.options.onReady(this);
  }

  capacityChanged(): void {
    this.options.onCapacity(this);
  }

  answerHealth(frame: HealthFrame): void {
    this.healthCalls.answer(frame);
  }

  onStreamEnded(): void {
    this.options.onCapacity(this);
  }

  /** Closes the socket with `code` (the reason cut to fit), failing its streams. Idempotent. */
  fail(code: number, reason: string, breach?: BreachCode): void {
    if (this.closed) return;
    if (code === CloseCode.PROTOCOL_ERROR || code === CloseCode.POLICY)
      this.options.logger.warn({ reason, breach }, 'closing agent socket');
    this.markClosed(reason);
    this.ws.close(code, closeReason(reason));
    // A peer that never answers the close handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sender.stop();
    clearTimeout(this.helloTimer);
    for (const stream of this.streams.clear())
      stream.handlers.onFailure({ code: 'agent_gone', message: reason });
    this.healthCalls.cancelAll();
    this.options.onClose(this);
  }
}

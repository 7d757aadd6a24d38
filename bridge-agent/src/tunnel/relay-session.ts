/**
 * One socket's session with a relay, once dialled: says `hello` when the socket opens, waits for
 * `welcome`, watches for a silent relay, and reads every frame once (text frames parsed, BODY
 * frames decoded) before handing it to the frame dispatcher. A frame that breaks the protocol
 * closes the socket (1002) with a reason and a stable breach code. The dialer (relay-link.ts)
 * owns the socket's life: refusals, certificates, the close and the reconnect.
 */
import {
  Breach,
  type BreachCode,
  CloseCode,
  closeReason,
  DataKind,
  decodeDataFrame,
  type HelloFrame,
  PROTOCOL_V2,
  PROTOCOLS,
  parseRelayFrame,
  stripControls,
  type WelcomeFrame,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { FrameDispatcher } from './frame-dispatcher.js';
import type { SessionChannel } from './relay-stream.js';
import { channelFor } from './session-channel.js';

/** How long the relay may take to answer `hello`, in ms. */
export const WELCOME_TIMEOUT_MS = 10_000;

/** A relay silent (no ping, no message) for this many heartbeat intervals is presumed dead. */
export const SILENCE_HEARTBEATS = 2.5;

/** What a session needs from its link. */
export type SessionHost = {
  /** The link's id, handed to the dispatcher with every frame. */
  link: number;
  dispatch: FrameDispatcher;
  logger: Logger;
  /** Builds the `hello` of this socket, with the models and readiness of that moment. */
  hello(): HelloFrame;
  /** Default WELCOME_TIMEOUT_MS. */
  welcomeTimeoutMs?: number;
  /** The relay pinged. */
  pinged(): void;
  /** The relay said `welcome`: streams may open. */
  welcomed(welcome: WelcomeFrame, channel: SessionChannel): void;
};

export class RelaySession {
  readonly channel: SessionChannel;
  /** The relay's welcome; undefined until it came. */
  welcome: WelcomeFrame | undefined;
  /** Set once the agent decided to drop the socket; why (for logs and `disconnected`). */
  reason: string | undefined;
  /** The stable code of the breach that dropped the socket, when one did. */
  breach: BreachCode | undefined;
  readonly #ws: WebSocket;
  readonly #host: SessionHost;
  #welcomeTimer: NodeJS.Timeout | undefined;
  /**
   * The silence watch: one coarse timer ticking every half silence limit, not one re-armed per
   * message (a credit frame per relayed chunk). A message or ping only sets `#heard`.
   */
  #silenceTimer: NodeJS.Timeout | undefined;
  #heard = false;
  /** Ticks in a row with nothing heard: two are the whole silence limit. */
  #quietTicks = 0;

  constructor(ws: WebSocket, host: SessionHost) {
    this.#ws = ws;
    this.#host = host;
    this.channel = channelFor(ws, (code, reason) => this.protocolError(code, reason));
    ws.on('open', () => this.#onOpen());
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('ping', () => {
      host.pinged();
      this.#heard = true;
    });
  }

  /** Drops a socket the agent no longer trusts (no welcome, silent relay); the close reconnects. */
  drop(code: BreachCode, reason: string): void {
    this.breach ??= code;
    this.reason ??= reason;
    this.#ws.terminate();
  }

  /** The relay broke the protocol: close 1002 with the reason, logged with its stable code. */
  protocolError(code: BreachCode, problem: string): void {
    // The reason quotes what the relay sent (a frame's keys): cleaned before it is shown.
    const reason = stripControls(problem);
    this.#host.logger.warn({ reason, breach: code }, 'protocol error from the relay: closing the socket');
    this.breach ??= code;
    this.reason ??= `protocol error: ${reason}`;
    this.#ws.close(CloseCode.PROTOCOL_ERROR, closeReason(reason));
    setTimeout(() => this.#ws.terminate(), 1_000).unref();
  }

  /** The socket closed: no timer of this session may fire any more. */
  ended(): void {
    clearTimeout(this.#welcomeTimer);
    clearInterval(this.#silenceTimer);
  }

  #onOpen(): void {
    const timeout = this.#host.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
    this.#welcomeTimer = setTimeout(
      () => this.drop(Breach.HANDSHAKE_TIMEOUT, `no welcome within ${timeout} ms`),
      timeout,
    );
    // The session speaks the protocol, so it says which revisions (unless the hello says already).
    const hello = this.#host.hello();
    hello.protocols ??= [...PROTOCOLS];
    this.channel.sendControl(hello);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.reason !== undefined) return;
    this.#heard = true;
    if (isBinary) return this.#onBinary(data);
    const parsed = parseRelayFrame(data.toString('utf8'));
    if (!parsed.ok) return this.protocolError(parsed.code, parsed.reason);
    const frame = parsed.frame;
    if (frame.type === 'welcome') {
      if (this.welcome) return this.protocolError(Breach.HANDSHAKE_REPEATED, 'welcome sent twice');
      return this.#onWelcome(frame);
    }
    if (!this.welcome)
      return this.protocolError(Breach.HANDSHAKE_MISSING, `expected welcome, got ${frame.type}`);
    this.#host.dispatch.frame(this.#host.link, frame);
  }

  /** Only a v2 relay sends binary frames, and only BODY ones, after welcome. */
  #onBinary(data: Buffer): void {
    if ((this.welcome?.protocol ?? 1) < PROTOCOL_V2)
      return this.protocolError(Breach.WRONG_DATA_KIND, 'the relay sent a binary frame');
    const frame = decodeDataFrame(data);
    if (!frame) return this.protocolError(Breach.MALFORMED_DATA, 'malformed body frame');
    if (frame.kind !== DataKind.BODY)
      return this.protocolError(Breach.WRONG_DATA_KIND, 'malformed body frame');
    this.#host.dispatch.body(this.#host.link, frame.stream, frame.payload);
  }

  #onWelcome(welcome: WelcomeFrame): void {
    clearTimeout(this.#welcomeTimer);
    this.welcome = welcome;
    const silence = Math.ceil(welcome.heartbeatMs * SILENCE_HEARTBEATS);
    // Dropped after two quiet ticks: silent for between `silence` and 1.5 × `silence`.
    this.#silenceTimer = setInterval(
      () => {
        if (this.#heard) {
          this.#heard = false;
          this.#quietTicks = 0;
        } else if (++this.#quietTicks >= 2) {
          this.drop(Breach.PEER_SILENT, `the relay was silent for ${silence} ms`);
        }
      },
      Math.ceil(silence / 2),
    );
    this.#host.welcomed(welcome, this.channel);
  }
}

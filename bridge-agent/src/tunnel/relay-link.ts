/**
 * The agent's one WebSocket to the relay: dials out with the client token, says `hello`, waits
 * for `welcome`, watches for a silent relay, and reconnects with full-jitter backoff. A relay that
 * refuses the token (401/403) or the protocol (426) is fatal: retrying cannot help.
 */
import { EventEmitter } from 'node:events';
import {
  type BackoffOptions,
  type Corkable,
  DEFAULT_MAX_FRAME_BYTES,
  fullJitterDelay,
  type HelloFrame,
  parseRelayFrame,
  type RelayFrame,
  SUBPROTOCOL,
  tickCorker,
  type WelcomeFrame,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { SessionChannel } from './relay-stream.js';

/** How long the relay may take to answer `hello`, in ms. */
export const WELCOME_TIMEOUT_MS = 10_000;

/** A relay silent (no ping, no message) for this many heartbeat intervals is presumed dead. */
export const SILENCE_HEARTBEATS = 2.5;

const CLOSE_GOING_AWAY = 1001;
const CLOSE_PROTOCOL_ERROR = 1002;

/** Upgrade answers that no retry can fix, and what to tell the owner. */
const FATAL_ANSWERS: Record<number, string> = {
  401: 'the relay refused the client token (401): check api_key / AGENT_TOKEN',
  403: 'the relay refused the client token (403): the client may be disabled; check api_key / AGENT_TOKEN',
  426: `the relay refused the protocol (426): this agent speaks ${SUBPROTOCOL}; update the agent`,
};

/** Raised through the `fatal` event; `status` is the relay's HTTP answer to the upgrade. */
export class FatalLinkError extends Error {
  override readonly name = 'FatalLinkError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type LinkOptions = {
  /** `ws(s)://…/agent/connect`. */
  url: string;
  token: string;
  /** Builds the `hello` sent on every (re)connection, with the models and readiness of that moment. */
  hello: () => HelloFrame;
  logger: Logger;
  /** Default WELCOME_TIMEOUT_MS. */
  welcomeTimeoutMs?: number;
  /** Reconnect delays: 0.5 s doubling to a 30 s cap, full jitter, by default. */
  backoff?: BackoffOptions;
};

type LinkEvents = {
  connected: [welcome: WelcomeFrame, channel: SessionChannel];
  frame: [frame: RelayFrame];
  disconnected: [reason: string];
  fatal: [error: FatalLinkError];
};

/** One socket's life, from dial to close. */
type Connection = {
  ws: WebSocket;
  channel: SessionChannel;
  welcome?: WelcomeFrame;
  /** Set once the agent decided to drop the socket; why (for logs and `disconnected`). */
  reason?: string;
  fatal?: FatalLinkError;
  welcomeTimer?: NodeJS.Timeout;
  silenceTimer?: NodeJS.Timeout;
};

/** Close reasons are limited to 123 bytes by RFC 6455. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123
    ? text
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '');
}

function channelFor(ws: WebSocket): SessionChannel {
  // ws keeps its net.Socket private (and sets it only once the upgrade succeeds); corking it per
  // event-loop turn batches a burst of frames into one writev.
  let corker: (() => void) | undefined;
  const cork = () => {
    if (corker) return corker();
    const socket = (ws as unknown as { _socket?: Corkable })._socket;
    if (socket) corker = tickCorker(socket);
    corker?.();
  };
  return {
    sendControl: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      ws.send(JSON.stringify(frame));
    },
    sendData: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      ws.send(frame);
    },
  };
}

export class RelayLink extends EventEmitter<LinkEvents> {
  /** Dials made after the first one. */
  reconnects = 0;
  /** When the relay last pinged. */
  lastHeartbeat: Date | undefined;
  /** The current session's welcome; undefined while not connected. */
  session: WelcomeFrame | undefined;
  readonly #options: LinkOptions;
  readonly #log: Logger;
  #conn: Connection | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #closing: Promise<void> | undefined;

  constructor(options: LinkOptions) {
    super();
    this.#options = options;
    this.#log = options.logger;
  }

  start(): void {
    if (!this.#conn && !this.#stopped) this.#dial();
  }

  /** Stops reconnecting and closes the socket with 1001. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const conn = this.#conn;
    this.#closing = new Promise((resolve) => {
      if (!conn || conn.ws.readyState === WebSocket.CLOSED) return resolve();
      conn.ws.once('close', () => resolve());
      conn.reason ??= 'closed by the agent';
      conn.ws.close(CLOSE_GOING_AWAY, 'agent shutting down');
      // A relay that never answers the closing handshake must not hold the agent.
      setTimeout(() => conn.ws.terminate(), 2_000).unref();
    });
    return this.#closing;
  }

  #dial(): void {
    const ws = new WebSocket(this.#options.url, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${this.#options.token}` },
      perMessageDeflate: false,
      maxPayload: DEFAULT_MAX_FRAME_BYTES,
      handshakeTimeout: this.#options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS,
      // An all-zero mask lets ws send data frames without copying them to mask. Masking only
      // protects browsers' proxies from scripted payloads; this client runs no foreign script.
      generateMask: () => {},
    });
    const conn: Connection = { ws, channel: channelFor(ws) };
    this.#conn = conn;
    ws.on('unexpected-response', (_request, response) => this.#onRefused(conn, response.statusCode ?? 0));
    ws.on('open', () => this.#onOpen(conn));
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data as Buffer, isBinary));
    ws.on('ping', () => {
      this.lastHeartbeat = new Date();
      conn.silenceTimer?.refresh();
    });
    ws.on('error', (error) => {
      conn.reason ??= error.message;
    });
    ws.on('close', (code, reason) => this.#onClose(conn, code, reason.toString()));
  }

  #onRefused(conn: Connection, status: number): void {
    const fatal = FATAL_ANSWERS[status];
    if (fatal) conn.fatal = new FatalLinkError(fatal, status);
    else conn.reason = `the relay answered the upgrade with HTTP ${status}`;
    conn.ws.terminate();
  }

  #onOpen(conn: Connection): void {
    const timeout = this.#options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
    conn.welcomeTimer = setTimeout(() => this.#drop(conn, `no welcome within ${timeout} ms`), timeout);
    conn.channel.sendControl(this.#options.hello());
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn.reason !== undefined) return;
    conn.silenceTimer?.refresh();
    if (isBinary) return this.#protocolError(conn, 'the relay sent a binary frame');
    const parsed = parseRelayFrame(data.toString('utf8'));
    if (!parsed.ok) return this.#protocolError(conn, parsed.reason);
    const frame = parsed.frame;
    if (frame.type === 'welcome') {
      if (conn.welcome) return this.#protocolError(conn, 'welcome sent twice');
      return this.#onWelcome(conn, frame);
    }
    if (!conn.welcome) return this.#protocolError(conn, `expected welcome, got ${frame.type}`);
    this.#emitSafely('frame', frame);
  }

  #onWelcome(conn: Connection, welcome: WelcomeFrame): void {
    clearTimeout(conn.welcomeTimer);
    conn.welcome = welcome;
    this.session = welcome;
    this.#attempt = 0;
    const silence = Math.ceil(welcome.heartbeatMs * SILENCE_HEARTBEATS);
    conn.silenceTimer = setTimeout(() => this.#drop(conn, `the relay was silent for ${silence} ms`), silence);
    this.#emitSafely('connected', welcome, conn.channel);
  }

  /** Drops a socket the agent no longer trusts (no welcome, silent relay); the close reconnects. */
  #drop(conn: Connection, reason: string): void {
    conn.reason ??= reason;
    conn.ws.terminate();
  }

  #protocolError(conn: Connection, reason: string): void {
    this.#log.warn({ reason }, 'protocol error from the relay: closing the socket');
    conn.reason ??= `protocol error: ${reason}`;
    conn.ws.close(CLOSE_PROTOCOL_ERROR, closeReason(reason));
    setTimeout(() => conn.ws.terminate(), 1_000).unref();
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    clearTimeout(conn.welcomeTimer);
    clearTimeout(conn.silenceTimer);
    if (this.#conn === conn) this.#conn = undefined;
    const why = conn.reason ?? (reason ? `closed by the relay (${code}: ${reason})` : `closed (${code})`);
    if (conn.welcome) {
      this.session = undefined;
      this.#emitSafely('disconnected', why);
    }
    if (this.#stopped) return;
    if (conn.fatal) {
      this.#stopped = true;
      this.#emitSafely('fatal', conn.fatal);
      return;
    }
    const delay = fullJitterDelay(this.#attempt++, this.#options.backoff);
    this.reconnects++;
    this.#log.info({ reason: why, delayMs: delay }, 'relay link down: reconnecting');
    this.#retryTimer = setTimeout(() => this.#dial(), delay);
  }

  /** Listeners run inside socket handlers: nothing they throw may escape. */
  #emitSafely<K extends keyof LinkEvents>(event: K, ...args: LinkEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: LinkEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error({ err: error, event }, 'relay link listener threw');
    }
  }
}

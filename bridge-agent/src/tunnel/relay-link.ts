/**
 * The dialer of one of the agent's links to a relay: builds the WebSocket (relay-socket.ts), keeps
 * the TLS bookkeeping and reconnects when the socket closes, when and where redial.ts says; what
 * is said on an open socket (hello, welcome, liveness, frames) is its session's (relay-session.ts).
 * Refusals no retry can fix (relay-refusal.ts; close 4003 on a live socket; an untrusted
 * certificate at every address) are fatal.
 */
import { EventEmitter } from 'node:events';
import {
  CloseCode,
  type HelloFrame,
  REFUSAL_HEADER,
  stripControls,
  TOKEN_ROTATED,
  type WelcomeFrame,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { ChosenProxy } from '../config/proxy-url.js';
import type { FrameDispatcher } from './frame-dispatcher.js';
import { Redial, type RedialOptions } from './redial.js';
import { describeProxyError, proxyAgent } from './relay-proxy.js';
import { FatalLinkError, refusalOf, TOKEN_ROTATED_MESSAGE } from './relay-refusal.js';
import { RelaySession, WELCOME_TIMEOUT_MS } from './relay-session.js';
import { openRelaySocket } from './relay-socket.js';
import type { SessionChannel } from './relay-stream.js';
import { describeCertificateError, RelayTrust } from './relay-tls.js';

export type LinkOptions = RedialOptions & {
  /** This link's id among the agent's links, handed to the dispatcher with every frame. */
  id: number;
  /** Where the session hands every relay frame after `welcome`. */
  dispatch: FrameDispatcher;
  token: string;
  /** PEM file of CA certificates trusted for `wss://` besides the system's roots. Read once, here. */
  caFile?: string;
  /** The proxy to dial `url` through, or undefined to dial it directly (config/proxy-url.ts proxyFor). */
  proxyFor?: (url: string) => ChosenProxy | undefined;
  /** Builds the `hello` sent on every (re)connection, with the models and readiness of that moment. */
  hello: () => HelloFrame;
  logger: Logger;
  /** Default WELCOME_TIMEOUT_MS. */
  welcomeTimeoutMs?: number;
};

type LinkEvents = {
  connected: [welcome: WelcomeFrame, channel: SessionChannel];
  disconnected: [reason: string];
  /** A socket closed, welcomed or not. */
  closed: [];
  fatal: [error: FatalLinkError];
};

/** One socket's life, from dial to close. */
type Connection = {
  ws: WebSocket;
  url: string;
  session: RelaySession;
  fatal?: FatalLinkError;
  /** The relay's certificate was refused: what to tell the owner, and the TLS code. */
  certificate?: { message: string; code: string };
};

export class RelayLink extends EventEmitter<LinkEvents> {
  /** Dials made after the first one. */
  reconnects = 0;
  /** When the relay last pinged. */
  lastHeartbeat: Date | undefined;
  /** The current session's welcome; undefined while not connected. */
  session: WelcomeFrame | undefined;
  readonly #options: LinkOptions;
  readonly #log: Logger;
  readonly #trust: RelayTrust;
  readonly #redial: Redial;
  #conn: Connection | undefined;
  /** The address dialled now, or last. */
  #url: string;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #closing: Promise<void> | undefined;

  constructor(options: LinkOptions) {
    super();
    this.#redial = new Redial(options);
    this.#options = options;
    this.#log = options.logger;
    this.#trust = new RelayTrust(options.caFile, options.urls);
    this.#url = this.#redial.next(undefined);
  }

  /** The relay address in use, or dialled last while disconnected. */
  get url(): string {
    return this.#url;
  }

  /** True while a socket is open or being dialled. */
  get active(): boolean {
    return this.#conn !== undefined;
  }

  /**
   * The relay is going away: no reconnect once its socket closes, and if it has not closed it
   * within `afterMs`, the agent closes it. Returns false when the link was already stopped.
   */
  retire(afterMs: number): boolean {
    if (this.#stopped) return false;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const conn = this.#conn;
    if (conn) {
      const timer = setTimeout(
        () => shut(conn, 'the relay did not close its socket after going away', 'relay went away'),
        afterMs,
      );
      timer.unref();
      conn.ws.once('close', () => clearTimeout(timer));
    }
    return true;
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
      shut(conn, 'closed by the agent', 'agent shutting down');
    });
    return this.#closing;
  }

  #dial(): void {
    const url = this.#url;
    const { token, welcomeTimeoutMs = WELCOME_TIMEOUT_MS } = this.#options;
    const proxy = this.#options.proxyFor?.(url);
    const ws = openRelaySocket(url, {
      token,
      ca: this.#trust.ca,
      handshakeTimeoutMs: welcomeTimeoutMs,
      // The proxy gets the same time to open its tunnel as the relay to answer the upgrade.
      agent: proxy && proxyAgent(proxy, welcomeTimeoutMs),
    });
    const conn: Connection = { ws, url, session: this.#session(ws) };
    this.#conn = conn;
    ws.on('unexpected-response', (_request, response) => {
      const refusal = refusalOf(response.statusCode ?? 0, response.headers[REFUSAL_HEADER]);
      if (refusal instanceof FatalLinkError) conn.fatal = refusal;
      else conn.session.reason = refusal;
      ws.terminate();
    });
    ws.on('error', (error) => {
      const message = describeCertificateError(error, url, this.#trust.caFile);
      if (message) conn.certificate = { message, code: (error as NodeJS.ErrnoException).code! };
      conn.session.reason ??= message ?? (proxy && describeProxyError(error, proxy)) ?? error.message;
    });
    ws.on('close', (code, reason) => this.#onClose(conn, code, reason.toString()));
  }

  #session(ws: WebSocket): RelaySession {
    const { id, dispatch, logger, hello, welcomeTimeoutMs } = this.#options;
    return new RelaySession(ws, {
      link: id,
      dispatch,
      logger,
      hello,
      welcomeTimeoutMs,
      pinged: () => {
        this.lastHeartbeat = new Date();
      },
      welcomed: (welcome, channel) => {
        this.session = welcome;
        this.#redial.welcomed();
        this.#trust.welcomed();
        this.#emitSafely('connected', welcome, channel);
      },
    });
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    conn.session.ended();
    if (this.#conn === conn) this.#conn = undefined;
    // The relay closed a session whose token's grace ended: dialling again gets the same answer.
    if (code === CloseCode.TOKEN_ROTATED) {
      conn.fatal ??= new FatalLinkError(TOKEN_ROTATED_MESSAGE, 401, TOKEN_ROTATED);
    }
    // The relay's close reason reaches logs, the status page and the console: its words, cleaned.
    const said = stripControls(reason);
    const why = conn.session.reason ?? (said ? `closed by the relay (${code}: ${said})` : `closed (${code})`);
    if (conn.session.welcome) {
      this.session = undefined;
      this.#emitSafely('disconnected', why);
    }
    this.#emitSafely('closed');
    if (this.#stopped) return;
    if (conn.certificate) {
      if (this.#trust.refused(conn.url)) {
        conn.fatal ??= new FatalLinkError(conn.certificate.message, undefined, conn.certificate.code);
      } else {
        this.#log.error({ relay: conn.url, reason: conn.certificate.message }, 'relay certificate refused');
      }
    }
    if (conn.fatal) {
      this.#stopped = true;
      this.#emitSafely('fatal', conn.fatal);
      return;
    }
    const delay = this.#redial.delay();
    this.reconnects++;
    this.#log.info(
      { reason: why, breach: conn.session.breach, delayMs: delay },
      'relay link down: reconnecting',
    );
    this.#retryTimer = setTimeout(() => {
      this.#url = this.#redial.next(conn.url);
      this.#dial();
    }, delay);
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

/** Closes `conn` with 1001, and drops it if the relay does not answer the closing handshake. */
function shut(conn: Connection, why: string, words: string): void {
  conn.session.reason ??= why;
  conn.ws.close(CloseCode.GOING_AWAY, words);
  // A relay that never answers the closing handshake must not hold the agent.
  setTimeout(() => conn.ws.terminate(), 2_000).unref();
}

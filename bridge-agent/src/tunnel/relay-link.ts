/**
 * The agent's one WebSocket to the relay: dials out with the client token, says `hello`, waits
 * for `welcome`, watches for a silent relay, and reconnects with full-jitter backoff. Given several
 * relay addresses it moves to the next one on every reconnect, so the agents of a relay that dies
 * land on the survivors. A relay that refuses the token (401/403) or the protocol (426) is fatal:
 * retrying cannot help; a token replaced and past its grace (401 `client_token_rotated`, or close
 * 4003 on a live socket) is said so in words. So is an untrusted certificate, once every address has shown one.
 */
import { EventEmitter } from 'node:events';
import {
  type BackoffOptions,
  CloseCode,
  closeReason,
  DataKind,
  decodeDataFrame,
  fullJitterDelay,
  type HelloFrame,
  MAX_OPEN_FRAME_BYTES,
  PROTOCOL_V2,
  PROTOCOLS,
  parseRelayFrame,
  REFUSAL_HEADER,
  type RelayFrame,
  SUBPROTOCOL,
  stripControls,
  TOKEN_ROTATED,
  type WelcomeFrame,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { ChosenProxy } from '../config/proxy-url.js';
import { describeProxyError, proxyAgent } from './relay-proxy.js';
import type { SessionChannel } from './relay-stream.js';
import { describeCertificateError, trustedCas } from './relay-tls.js';
import { channelFor } from './session-channel.js';

/** How long the relay may take to answer `hello`, in ms. */
export const WELCOME_TIMEOUT_MS = 10_000;

/** A relay silent (no ping, no message) for this many heartbeat intervals is presumed dead. */
export const SILENCE_HEARTBEATS = 2.5;

/** Upgrade answers that no retry can fix, and what to tell the owner. */
const FATAL_ANSWERS: Record<number, string> = {
  401: 'the relay refused the client token (401): check api_key / AGENT_TOKEN',
  403: 'the relay refused the client token (403): the client may be disabled; check api_key / AGENT_TOKEN',
  426: `the relay refused the protocol (426): this agent speaks ${SUBPROTOCOL}; update the agent`,
};

/** What the owner reads when the relay says the token was replaced and its grace is over. */
export const TOKEN_ROTATED_MESSAGE =
  "the relay says this agent's client token was replaced (a newer package was downloaded, or the " +
  'token was rotated) and its grace period is over: install the new package (or put its api_key ' +
  'in config.jsonc) and start the agent again';

/**
 * Raised through the `fatal` event. `status` is the relay's HTTP answer to the upgrade, when it
 * answered; `code` the TLS verification code, when the relay's certificate was refused.
 */
export class FatalLinkError extends Error {
  override readonly name = 'FatalLinkError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export type LinkOptions = {
  /** `ws(s)://…/agent/connect` addresses, dialled in turn starting with the first. At least one. */
  urls: readonly string[];
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
  /**
   * Chooses the address of each dial, given the one used last (undefined on the first). By
   * default the addresses are taken in turn, starting with the first.
   */
  pickUrl?: (previous: string | undefined) => string;
  /**
   * Reconnect delays: 0.5 s doubling to a 30 s cap, full jitter, by default. With several
   * addresses the delay grows once per round through them, not per address.
   */
  backoff?: BackoffOptions;
};

type LinkEvents = {
  connected: [welcome: WelcomeFrame, channel: SessionChannel];
  frame: [frame: RelayFrame];
  /** A BODY data frame (protocol v2): `payload` is part of the request body of `stream`. */
  body: [stream: number, payload: Buffer];
  disconnected: [reason: string];
  /** A socket closed, welcomed or not. */
  closed: [];
  fatal: [error: FatalLinkError];
};

/** One socket's life, from dial to close. */
type Connection = {
  ws: WebSocket;
  url: string;
  proxy: ChosenProxy | undefined;
  channel: SessionChannel;
  welcome?: WelcomeFrame;
  /** Set once the agent decided to drop the socket; why (for logs and `disconnected`). */
  reason?: string;
  fatal?: FatalLinkError;
  /** The relay's certificate was refused: what to tell the owner, and the TLS code. */
  certificate?: { message: string; code: string };
  welcomeTimer?: NodeJS.Timeout;
  silenceTimer?: NodeJS.Timeout;
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
  readonly #ca: string[] | undefined;
  #conn: Connection | undefined;
  /** The address dialled now, or last. */
  #url: string;
  /** Dials that failed or closed since the last welcome. */
  #failures = 0;
  /** Addresses whose certificate was refused since the last welcome. */
  readonly #untrusted = new Set<string>();
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #closing: Promise<void> | undefined;

  constructor(options: LinkOptions) {
    super();
    if (options.urls.length === 0) throw new Error('RelayLink needs at least one relay URL');
    this.#options = options;
    this.#log = options.logger;
    this.#ca = trustedCas(options.caFile);
    this.#url = options.pickUrl?.(undefined) ?? options.urls[0]!;
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
      const timer = setTimeout(() => {
        conn.reason ??= 'the relay did not close its socket after going away';
        conn.ws.close(CloseCode.GOING_AWAY, 'relay went away');
        setTimeout(() => conn.ws.terminate(), 2_000).unref();
      }, afterMs);
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
      conn.reason ??= 'closed by the agent';
      conn.ws.close(CloseCode.GOING_AWAY, 'agent shutting down');
      // A relay that never answers the closing handshake must not hold the agent.
      setTimeout(() => conn.ws.terminate(), 2_000).unref();
    });
    return this.#closing;
  }

  #dial(): void {
    const url = this.#url;
    const proxy = this.#options.proxyFor?.(url);
    const ws = new WebSocket(url, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${this.#options.token}` },
      ...(this.#ca && { ca: this.#ca }),
      // The proxy gets the same time to open its tunnel as the relay to answer the upgrade.
      ...(proxy && { agent: proxyAgent(proxy, this.#options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS) }),
      perMessageDeflate: false,
      // The relay sends only control frames, and an `open` holds a whole request body.
      maxPayload: MAX_OPEN_FRAME_BYTES,
      handshakeTimeout: this.#options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS,
      // An all-zero mask lets ws send data frames without copying them to mask. Masking only
      // protects browsers' proxies from scripted payloads; this client runs no foreign script.
      generateMask: () => {},
    });
    const conn: Connection = {
      ws,
      url,
      proxy,
      channel: channelFor(ws, (reason) => this.#protocolError(conn, reason)),
    };
    this.#conn = conn;
    ws.on('unexpected-response', (_request, response) =>
      this.#onRefused(conn, response.statusCode ?? 0, response.headers[REFUSAL_HEADER]),
    );
    ws.on('open', () => this.#onOpen(conn));
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data as Buffer, isBinary));
    ws.on('ping', () => {
      this.lastHeartbeat = new Date();
      conn.silenceTimer?.refresh();
    });
    ws.on('error', (error) => {
      const message = describeCertificateError(error, url, this.#options.caFile);
      if (message) conn.certificate = { message, code: (error as NodeJS.ErrnoException).code! };
      conn.reason ??= message ?? (proxy && describeProxyError(error, proxy)) ?? error.message;
    });
    ws.on('close', (code, reason) => this.#onClose(conn, code, reason.toString()));
  }

  #onRefused(conn: Connection, status: number, refusal: string | string[] | undefined): void {
    const fatal = FATAL_ANSWERS[status];
    if (status === 401 && refusal === TOKEN_ROTATED) {
      conn.fatal = new FatalLinkError(TOKEN_ROTATED_MESSAGE, status, TOKEN_ROTATED);
    } else if (fatal) conn.fatal = new FatalLinkError(fatal, status);
    else conn.reason = `the relay answered the upgrade with HTTP ${status}`;
    conn.ws.terminate();
  }

  #onOpen(conn: Connection): void {
    const timeout = this.#options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
    conn.welcomeTimer = setTimeout(() => this.#drop(conn, `no welcome within ${timeout} ms`), timeout);
    // The link speaks the protocol, so it says which revisions (unless the hello says already).
    const hello = this.#options.hello();
    hello.protocols ??= [...PROTOCOLS];
    conn.channel.sendControl(hello);
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn.reason !== undefined) return;
    conn.silenceTimer?.refresh();
    if (isBinary) return this.#onBinary(conn, data);
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

  /** Only a v2 relay sends binary frames, and only BODY ones, after welcome. */
  #onBinary(conn: Connection, data: Buffer): void {
    if ((conn.welcome?.protocol ?? 1) < PROTOCOL_V2)
      return this.#protocolError(conn, 'the relay sent a binary frame');
    const frame = decodeDataFrame(data);
    if (!frame || frame.kind !== DataKind.BODY) return this.#protocolError(conn, 'malformed body frame');
    this.#emitSafely('body', frame.stream, frame.payload);
  }

  #onWelcome(conn: Connection, welcome: WelcomeFrame): void {
    clearTimeout(conn.welcomeTimer);
    conn.welcome = welcome;
    this.session = welcome;
    this.#failures = 0;
    this.#untrusted.clear();
    const silence = Math.ceil(welcome.heartbeatMs * SILENCE_HEARTBEATS);
    conn.silenceTimer = setTimeout(() => this.#drop(conn, `the relay was silent for ${silence} ms`), silence);
    this.#emitSafely('connected', welcome, conn.channel);
  }

  /** Drops a socket the agent no longer trusts (no welcome, silent relay); the close reconnects. */
  #drop(conn: Connection, reason: string): void {
    conn.reason ??= reason;
    conn.ws.terminate();
  }

  #protocolError(conn: Connection, problem: string): void {
    // The reason quotes what the relay sent (a frame's keys): cleaned before it is shown.
    const reason = stripControls(problem);
    this.#log.warn({ reason }, 'protocol error from the relay: closing the socket');
    conn.reason ??= `protocol error: ${reason}`;
    conn.ws.close(CloseCode.PROTOCOL_ERROR, closeReason(reason));
    setTimeout(() => conn.ws.terminate(), 1_000).unref();
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    clearTimeout(conn.welcomeTimer);
    clearTimeout(conn.silenceTimer);
    if (this.#conn === conn) this.#conn = undefined;
    // The relay closed a session whose token's grace ended: dialling again gets the same answer.
    if (code === CloseCode.TOKEN_ROTATED) {
      conn.fatal ??= new FatalLinkError(TOKEN_ROTATED_MESSAGE, 401, TOKEN_ROTATED);
    }
    // The relay's close reason reaches logs, the status page and the console: its words, cleaned.
    const said = stripControls(reason);
    const why = conn.reason ?? (said ? `closed by the relay (${code}: ${said})` : `closed (${code})`);
    if (conn.welcome) {
      this.session = undefined;
      this.#emitSafely('disconnected', why);
    }
    this.#emitSafely('closed');
    if (this.#stopped) return;
    if (conn.certificate) {
      // A configuration problem, fatal like a refused token; but one relay with a bad certificate
      // must not stop an agent that has other relays to go to.
      this.#untrusted.add(conn.url);
      if (this.#untrusted.size >= new Set(this.#options.urls).size) {
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
    const count = this.#options.urls.length;
    const delay = fullJitterDelay(Math.floor(this.#failures++ / count), this.#options.backoff);
    this.reconnects++;
    this.#log.info({ reason: why, delayMs: delay }, 'relay link down: reconnecting');
    this.#retryTimer = setTimeout(() => {
      // Chosen at dial time, not now: the other links may have moved meanwhile.
      this.#url = this.#options.pickUrl?.(conn.url) ?? this.#nextInTurn(conn.url);
      this.#dial();
    }, delay);
  }

  #nextInTurn(previous: string): string {
    const urls = this.#options.urls;
    return urls[(urls.indexOf(previous) + 1) % urls.length]!;
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

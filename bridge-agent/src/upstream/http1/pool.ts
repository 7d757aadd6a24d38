/**
 * The agent's keep-alive HTTP/1.1 connections to its bridge, written for the relayed-chunk hot
 * path: a request's head is written once, the response head parsed once, and each body chunk goes
 * to the handler as a view of the socket's read (exchange.ts, response-parser.ts) — no per-chunk
 * stream, promise or copy; plain-TCP reads land in buffer regions the socket owns
 * (bridge-socket.ts). Answers go to an undici-shaped DispatchHandler, so forward.ts does not know
 * which client serves it. This module keeps the sockets: idle, busy, waited for; a socket is
 * reused only after a whole, well-framed response.
 */
import type net from 'node:net';
import type { Dispatcher } from 'undici';
import { dialBridge } from './bridge-socket.js';
import { coded, Exchange, type Http1Request } from './exchange.js';
import { IdleWatch } from './idle-watch.js';

export type { Http1Request } from './exchange.js';

export type Http1PoolOptions = {
  /** The bridge's origin (`http:` or `https:`). */
  origin: URL;
  /** Most sockets open at once (the agent's concurrency and a spare); more requests wait. */
  connections: number;
  /** Idle limit while waiting for the head or for body bytes, in ms. */
  timeoutMs: number;
  /** Limit on opening a connection, in ms (default 10 s, as undici). */
  connectTimeoutMs?: number;
  /**
   * How long an idle socket is kept, in ms (default 4 s: under uvicorn's 5 s keep-alive, so the
   * bridge does not close a socket as a request goes out on it). A `Keep-Alive: timeout=` hint
   * from the bridge shortens it.
   */
  keepAliveMs?: number;
  /**
   * Plain-TCP sockets read into regions of a buffer the pool owns (net's `onread`) instead of
   * through the socket's Readable stream: no ArrayBuffer, stream state or tick per read (default
   * true; false only to compare in bench/agent-client.ts).
   */
  ownReadBuffers?: boolean;
};

/** Per-socket state, kept on the socket so the listeners are bound once per connection. */
type Slot = { exchange: Exchange | undefined; keepAliveMs: number };

export class Http1Pool {
  readonly timeoutMs: number;
  /** The idle limit of running requests (timeoutMs). */
  readonly watch: IdleWatch;
  readonly #options: Http1PoolOptions;
  readonly #keepAliveMs: number;
  readonly #slots = new Map<net.Socket, Slot>();
  /** Idle sockets, the most recently used last (reused first: the warmest). */
  readonly #idle: net.Socket[] = [];
  readonly #queue: Exchange[] = [];
  #closed = false;

  constructor(options: Http1PoolOptions) {
    this.#options = options;
    this.timeoutMs = options.timeoutMs;
    this.watch = new IdleWatch(options.timeoutMs);
    this.#keepAliveMs = options.keepAliveMs ?? 4_000;
  }

  /** Starts `request`; its answer goes to `handler`. `onRequestStart` is called before this returns. */
  dispatch(request: Http1Request, handler: Dispatcher.DispatchHandler): void {
    const exchange = new Exchange(this, request, handler);
    handler.onRequestStart?.(exchange, {});
    if (exchange.aborted) return;
    if (this.#closed) return exchange.fail(coded('the bridge client is closed', 'UND_ERR_DESTROYED'));
    const socket = this.#takeIdle() ?? this.#open();
    if (socket === undefined) this.#queue.push(exchange);
    else this.#assign(socket, exchange);
  }

  #takeIdle(): net.Socket | undefined {
    for (let socket = this.#idle.pop(); socket !== undefined; socket = this.#idle.pop()) {
      if (!socket.destroyed && socket.writable && !socket.readableEnded) return socket;
      socket.destroy();
    }
    return undefined;
  }

  #open(): net.Socket | undefined {
    if (this.#slots.size >= this.#options.connections) return undefined;
    const https = this.#options.origin.protocol === 'https:';
    const slot: Slot = { exchange: undefined, keepAliveMs: this.#keepAliveMs };
    const socket = dialBridge(
      this.#options.origin,
      (bytes, end) => {
        const exchange = slot.exchange;
        // Bytes on an idle socket: the bridge is out of step, so the socket goes.
        if (exchange === undefined) {
          socket.destroy();
          return;
        }
        try {
          exchange.onData(bytes, end);
        } catch (error) {
          // A handler that throws must not take the agent down from a socket event.
          exchange.fail(error instanceof Error ? error : new Error(String(error)));
        }
      },
      this.#options.ownReadBuffers,
    );
    socket.setNoDelay(true);
    this.#slots.set(socket, slot);
    // Until connected, the limit is the connect timeout's; start() sets the request's.
    const connectTimeout = this.#options.connectTimeoutMs ?? 10_000;
    let connected = false;
    socket.once(https ? 'secureConnect' : 'connect', () => {
      connected = true;
      // A running request's idle limit is the watch's.
      if (slot.exchange) socket.setTimeout(0);
    });
    socket.on('end', () => {
      try {
        slot.exchange?.onEof();
      } catch (error) {
        slot.exchange?.fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('timeout', () => {
      if (!connected) {
        slot.exchange?.fail(
          coded(`no connection to the bridge within ${connectTimeout} ms`, 'UND_ERR_CONNECT_TIMEOUT'),
        );
      } else if (slot.exchange) slot.exchange.onTimeout();
      socket.destroy();
    });
    let failure: Error | undefined;
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      this.#slots.delete(socket);
      const index = this.#idle.indexOf(socket);
      if (index !== -1) this.#idle.splice(index, 1);
      slot.exchange?.fail(failure ?? coded('the bridge closed the connection', 'BRIDGE_CLOSED'));
      this.#next();
    });
    socket.setTimeout(connectTimeout);
    return socket;
  }

  #assign(socket: net.Socket, exchange: Exchange): void {
    const slot = this.#slots.get(socket)!;
    slot.exchange = exchange;
    exchange.start(socket);
  }

  /** Called by an exchange when it is over: its socket goes back to the idle list or is closed. */
  release(exchange: Exchange, socket: net.Socket | undefined, reusable: boolean): void {
    this.watch.delete(exchange);
    if (socket === undefined) {
      const queued = this.#queue.indexOf(exchange);
      if (queued !== -1) this.#queue.splice(queued, 1);
      return;
    }
    const slot = this.#slots.get(socket);
    if (slot?.exchange !== exchange) return;
    slot.exchange = undefined;
    if (!reusable || this.#closed || socket.destroyed || slot.keepAliveMs <= 0) {
      socket.destroy();
      return;
    }
    socket.setTimeout(slot.keepAliveMs);
    socket.resume();
    const waiting = this.#queue.shift();
    if (waiting) this.#assign(socket, waiting);
    else this.#idle.push(socket);
  }

  /** A `Keep-Alive: timeout=N` from the bridge: idle sockets go a second before it would close them. */
  hint(socket: net.Socket, keepAlive: string | string[] | undefined): void {
    if (typeof keepAlive !== 'string') return;
    const match = /(?:^|[,\s])timeout=(\d{1,6})/i.exec(keepAlive);
    const slot = this.#slots.get(socket);
    if (match && slot) slot.keepAliveMs = Math.min(this.#keepAliveMs, Number(match[1]) * 1000 - 1000);
  }

  /** A socket closed: a waiting request may open one now. */
  #next(): void {
    if (this.#closed) return;
    while (this.#queue.length > 0) {
      const socket = this.#open();
      if (socket === undefined) return;
      this.#assign(socket, this.#queue.shift()!);
    }
  }

  /** Sockets open (busy, idle or connecting): for tests and the bench. */
  get size(): number {
    return this.#slots.size;
  }

  /** Closes every socket; requests still running or waiting fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = [...this.#slots.keys()].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    for (const exchange of this.#queue.splice(0))
      exchange.fail(coded('the bridge client is closed', 'UND_ERR_DESTROYED'));
    for (const socket of this.#slots.keys()) socket.destroy();
    await Promise.all(closing);
  }
}

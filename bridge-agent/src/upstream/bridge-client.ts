/**
 * The agent's HTTP client for LMArenaBridge: relayed requests go over the agent's own keep-alive
 * HTTP/1.1 connections (http1/: the per-chunk hot path, about a quarter of the heap bytes undici's
 * dispatch allocates per chunk, and less CPU; see bench/agent-client.ts); probes, which are few
 * and want promises, over a small undici Pool. Timeouts longer than the bridge's own 360 s idle timeout; the bridge's API
 * key (if any) added to every request.
 */

import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import { DIALECTS, type Dialect } from './dialects/index.js';
import { Http1Pool } from './http1/pool.js';

/** Idle limit on headers and body, in ms: above the bridge's 360 s and undici's 300 s default. */
export const UPSTREAM_TIMEOUT_MS = 420_000;

/** Limit on a readiness probe, in ms. */
export const PROBE_TIMEOUT_MS = 5_000;

/** Connections kept for probes (readiness, detection, the serve probe: a few at a time). */
const PROBE_CONNECTIONS = 4;

/** What a request path may hold: visible ASCII (the relay's path, already checked by allowed-requests.ts). */
const REQUEST_TARGET = /^\/[\x21-\x7e]*$/;

export type BridgeClientOptions = {
  /** Bridge address, `http(s)://host:port[/prefix]`, no trailing slash. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` when the bridge has an api_key of its own. */
  apiKey?: string;
  /** Connections kept to the bridge (streams plus one for probes). */
  connections: number;
  /** Headers and body idle timeout for requests, in ms (default UPSTREAM_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Headers and body timeout for probes, in ms (default PROBE_TIMEOUT_MS). */
  probeTimeoutMs?: number;
  /** The bridge's dialect until detection says otherwise (default lmarenabridge-v2). */
  dialect?: Dialect;
};

/**
 * The API prefix an owner may have pasted into upstream_url (CloudWaddie documents its base URL as
 * `…:8000/api/v1`): the dialect adds its own, so it is dropped here.
 */
const API_SUFFIX = /\/(api\/)?v1$/;

/**
 * `bytes`: the body as JSON bytes, sent as they are (protocol v2: the consumer's own bytes, in
 * the pieces they arrived in); else `body`, a value encoded here (protocol v1).
 */
export type BridgeRequest = {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  bytes?: Buffer | readonly Buffer[];
};

export class BridgeClient {
  readonly baseUrl: string;
  readonly probeTimeoutMs: number;
  readonly #pool: Pool;
  readonly #streams: Http1Pool;
  readonly #basePath: string;
  readonly #authorization: string | undefined;
  /** The header lines every relayed request carries (host, accept, authorization), built once. */
  readonly #fixedHead: string;
  /** The api_key holds a character a header cannot (CR, LF, NUL): every request fails, as undici's did. */
  readonly #badKey: boolean;
  /** How the bridge speaks; set again when `bridge: auto` finds another one. */
  dialect: Dialect;

  constructor(options: BridgeClientOptions) {
    const url = new URL(options.baseUrl);
    const timeout = options.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
    this.baseUrl = options.baseUrl;
    this.probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
    this.#basePath = url.pathname.replace(/\/+$/, '').replace(API_SUFFIX, '');
    this.dialect = options.dialect ?? DIALECTS['lmarenabridge-v2'];
    this.#authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
    this.#pool = new Pool(url.origin, {
      connections: Math.min(options.connections, PROBE_CONNECTIONS),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
    });
    this.#streams = new Http1Pool({ origin: url, connections: options.connections, timeoutMs: timeout });
    this.#badKey = /[\0\r\n]/.test(this.#authorization ?? '');
    this.#fixedHead =
      `host: ${url.host}\r\naccept: text/event-stream, application/json\r\n` +
      (this.#authorization ? `authorization: ${this.#authorization}\r\n` : '');
  }

  /**
   * Sends one request; the answer goes to `handler` as the parser reads it: no body stream, no
   * extra turn per chunk (this is the agent's hot path). The relay's headers are not forwarded:
   * the bridge reads only the JSON body, and the consumer's credentials must never reach it.
   * Throws on a path or key that cannot go into a request head (forward.ts turns it into a failure).
   */
  dispatch(request: BridgeRequest, handler: Dispatcher.DispatchHandler): void {
    const path = this.pathOf(request.path);
    if (!REQUEST_TARGET.test(path)) throw new Error('a request path that cannot be sent');
    if (this.#badKey) throw new Error('an api_key that cannot be sent in a header');
    let head = `${request.method} ${path} HTTP/1.1\r\n${this.#fixedHead}`;
    let body: readonly (Buffer | string)[] = [];
    if (request.method === 'POST' && request.bytes !== undefined) {
      const bytes = request.bytes;
      // Written piece by piece: the pieces are never joined.
      body = Buffer.isBuffer(bytes) ? [bytes] : bytes;
      const length = body.reduce((n, b) => n + (b as Buffer).byteLength, 0);
      head += `content-type: application/json\r\ncontent-length: ${length}\r\n`;
    } else if (request.method === 'POST' && request.body !== undefined) {
      const json = JSON.stringify(request.body);
      body = [json];
      head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n`;
    } else if (request.method === 'POST') {
      head += 'content-length: 0\r\n';
    }
    this.#streams.dispatch({ head: `${head}\r\n`, body }, handler);
  }

  /** The bridge's path for the relay's `/v1/…` path: its base path and the dialect's API prefix. */
  pathOf(relayPath: string): string {
    const rest = relayPath.startsWith('/v1/') ? relayPath.slice(3) : relayPath;
    return `${this.#basePath}${this.dialect.apiPrefix}${rest}`;
  }

  /** `GET <models>` of the dialect with the short probe timeout. */
  models(signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return this.#get(this.pathOf('/v1/models'), signal);
  }

  /**
   * `GET` of a path under the bridge's base path (not the dialect's prefix: detection asks before
   * it knows the dialect), with the short probe timeout and the key.
   */
  probeGet(path: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return this.#get(this.#basePath + path, signal);
  }

  #get(path: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#authorization) headers.authorization = this.#authorization;
    return this.#pool.request({
      method: 'GET',
      path,
      headers,
      signal,
      headersTimeout: this.probeTimeoutMs,
      bodyTimeout: this.probeTimeoutMs,
    });
  }

  /**
   * Asks whether the bridge can serve a chat now without sending anything to LMArena: a JSON array
   * passes LMArenaBridge's checks in order (JSON, key, Cloudflare refresh, userscript connected)
   * and then fails on the first field read, a plain-text 500. Any earlier check answers for itself
   * (503 with a `detail` when the tab is gone or a Cloudflare check runs, 401 on a bad key).
   */
  serveProbe(signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/json',
    };
    if (this.#authorization) headers.authorization = this.#authorization;
    return this.#pool.request({
      method: 'POST',
      path: this.pathOf('/v1/chat/completions'),
      headers,
      body: '[]',
      signal,
      headersTimeout: this.probeTimeoutMs,
      bodyTimeout: this.probeTimeoutMs,
    });
  }

  /** Closes both pools; requests still running are aborted. Idempotent. */
  async close(): Promise<void> {
    await this.#streams.close();
    if (this.#pool.destroyed) return;
    await this.#pool.destroy();
  }
}

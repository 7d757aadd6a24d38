/**
 * A fake LMArenaBridge (v2.7.6, `api_server.py`) on plain node:http, for the test suite and as the
 * benchmarks' upstream. Its bytes follow the recordings in shared/fixtures/lmarenabridge/: Python
 * `json.dumps` spacing for chat bodies, Starlette's compact JSON for `detail` bodies, in-band errors.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Failure modes of the real bridge; see `startFakeBridge`. Read when a chat request arrives. */
export type FakeBridgeScenario =
  | 'ok'
  | 'error'
  | 'error-late'
  | 'attachment-too-large'
  | 'cloudflare'
  | 'tab-closed'
  | 'filter'
  | 'empty'
  | 'slow'
  | 'hang'
  | 'timeout'
  | 'browser-disconnect'
  | 'session-expired'
  | 'recaptcha'
  | 'rate-limited';

export type FakeBridgeOptions = {
  /** Port on 127.0.0.1; default 0 (random). */
  port?: number;
  /** Ids listed by `GET /v1/models`; default `['gpt-5', 'claude-opus-4', 'dall-e-3']`. */
  models?: string[];
  /** When set, chat and models requests need `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Content pieces of an answer, one event each; default `DEFAULT_CHUNKS`. */
  chunks?: string[];
  /**
   * Scripts the answer per request: the content pieces for this chat request's parsed body
   * (undefined: `chunks`). Lets a test answer a tool call, then the turn with its result.
   */
  answer?: (body: unknown) => readonly string[] | undefined;
  /** Delay between chunks for 'ok' and 'filter', in ms; default 0 (back to back). */
  chunkDelayMs?: number;
  /** Delay between chunks for 'slow', in ms; default 200. */
  slowDelayMs?: number;
  /** Delay before the first content chunk of a streamed answer, in ms (headers go at once); default 0. */
  firstChunkDelayMs?: number;
  /**
   * Writes each streamed event in two writes, cut inside its first multi-byte character (or in
   * the middle), a few ms apart: downstream sees UTF-8 split across chunks.
   */
  splitEvents?: boolean;
  /** Scenario for requests until changed; default 'ok'. */
  scenario?: FakeBridgeScenario;
  /** 'rate-limited': the `retry_after` (seconds) in LMArena's 429 body; default none. */
  rateLimitRetryAfter?: number;
};

export type RecordedRequest = {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** The body's bytes exactly as they arrived. */
  raw: Buffer;
  /** True once the client closed the connection before the bridge finished its reply. */
  closedEarly: boolean;
};

export interface FakeBridge {
  url: string;
  port: number;
  /** Mutable; applies to the next chat request. */
  scenario: FakeBridgeScenario;
  /** Every chat request received, in order (also the rejected ones), serve probes excepted. */
  readonly requests: RecordedRequest[];
  /**
   * Chat requests whose JSON body is not an object (the agent's serve probe sends `[]`): answered
   * as the bridge does, counted here instead of in `requests`.
   */
  readonly serveProbes: number;
  /** The oldest early-closed chat request not yet returned by this method, waiting for one if none. */
  nextEarlyClose(): Promise<RecordedRequest>;
  /** Chat responses currently open. */
  readonly openStreams: number;
  /** Back to 'ok'; clears the Cloudflare and tab-gone states, `requests` and unclaimed early closes. */
  reset(): void;
  /** Idempotent; destroys open sockets, so it never waits on a hanging stream. */
  close(): Promise<void>;
}

/** The 15 content pieces of the recorded streamed answer (stream-ok.txt; 16 events with the stop chunk). */
export const DEFAULT_CHUNKS: readonly string[] = Object.freeze([
  'Hello!',
  ' This',
  ' is',
  ' a',
  ' canned',
  ' LMArena',
  ' reply',
  ' from',
  ' the',
  ' fake',
  ' userscript.',
  ' 你好，世界。',
  ' "quoted"',
  ' and',
  ' a\nnewline.',
]);

/** The only marker that tells an in-band stream error from model text. */
export const BRIDGE_ERROR_PREFIX = '\n\n[LMArena Bridge Error]: ';

/** The bridge's own texts, byte-exact, for assertions. */
export const BRIDGE_TEXTS = Object.freeze({
  fetchFailure: '网络响应不正常。状态: 500. 内容: fake upstream failure',
  attachmentTooLarge:
    '上传失败：附件大小超过了 LMArena 服务器的限制 (通常是 5MB左右)。请尝试压缩文件或上传更小的文件。',
  cloudflareDetected: '检测到人机验证，已发送刷新指令，请稍后重试。',
  cloudflareRefreshing: '正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。',
  tabClosed: '油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。',
  lmArenaError: 'Model is currently unavailable (fake)',
  filterNotice: '\n\n响应被终止，可能是上下文超限或者模型内部审查（大概率）的原因',
  invalidJson: '无效的 JSON 请求体',
  missingKey: "未提供 API Key。请在 Authorization 头部中以 'Bearer YOUR_KEY' 格式提供。",
  wrongKey: '提供的 API Key 不正确。',
  /** `_process_lmarena_stream` after `stream_response_timeout_seconds` (360) without data. */
  timeout: 'Response timed out after 360 seconds.',
  /** Put in every open channel when the userscript's WebSocket closes. */
  browserDisconnected: 'Browser disconnected during operation',
  /** The userscript's fetch failure texts (`网络响应不正常。状态: <status>. 内容: <LMArena body>`). */
  sessionExpired:
    '网络响应不正常。状态: 401. 内容: {"error":"User does not have access to evaluation session"}',
  recaptchaFailed: '网络响应不正常。状态: 403. 内容: {"error":"recaptcha validation failed"}',
  rateLimited: '网络响应不正常。状态: 429. 内容: {"error":"Too Many Requests"}',
});

/** LMArena's 429 text with a retry-after in its body. */
export const rateLimitedText = (retryAfter?: number): string =>
  retryAfter === undefined
    ? BRIDGE_TEXTS.rateLimited
    : `网络响应不正常。状态: 429. 内容: {"error":"Too Many Requests","retry_after":${retryAfter}}`;

/**
 * Serialises like Python's `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` separators,
 * raw UTF-8. Strings escape exactly as `JSON.stringify` does (except lone surrogates).
 */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) parts.push(`${JSON.stringify(key)}: ${pythonJson(item)}`);
    }
    return `{${parts.join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

/** Python truthiness of a JSON value (`openai_req.get("stream", False)`, `model or "default_model"`). */
function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function send(res: ServerResponse, status: number, body: string, type = JSON_TYPE): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** FastAPI's `HTTPException`: Starlette renders it compact (`separators=(",", ":")`). */
function sendDetail(res: ServerResponse, status: number, detail: string): void {
  send(res, status, JSON.stringify({ detail }));
}

/** Waits `ms`, or less when the client goes away (`signal` aborts). */
const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/** Offset of the first UTF-8 continuation byte (inside a character), else the middle. */
function splitPoint(bytes: Buffer): number {
  for (let i = 1; i < bytes.length; i++) if ((bytes[i]! & 0xc0) === 0x80) return i;
  return bytes.length >> 1;
}

/** One reply being produced: formats events with a constant `chatcmpl-<uuid>` id. */
class Reply {
  readonly id = `chatcmpl-${randomUUID()}`;
  constructor(
    readonly res: ServerResponse,
    readonly model: string,
    readonly signal: AbortSignal,
    readonly splitEvents = false,
    readonly firstChunkDelayMs = 0,
  ) {}

  private head(): string {
    const created = Math.floor(Date.now() / 1000);
    return `data: {"id": "${this.id}", "object": "chat.completion.chunk", "created": ${created}, "model": ${this.model}, "choices": [{"index": 0, "delta": `;
  }

  startStream(): void {
    this.res.writeHead(200, { 'content-type': SSE_TYPE });
    this.res.flushHeaders();
  }

  chunk(content: string): string {
    return `${this.head()}{"content": ${pythonJson(content)}}, "finish_reason": null}]}\n\n`;
  }

  /** Stop chunk and `[DONE]`, in one write as the bridge does. */
  finish(reason: string): void {
    this.res.end(`${this.head()}{}, "finish_reason": ${pythonJson(reason)}}]}\n\ndata: [DONE]\n\n`);
  }

  /** Streams `pieces` with `delayMs` between them; stops early if the client goes away. */
  async stream(pieces: readonly string[], delayMs: number, reason: string): Promise<void> {
    this.startStream();
    if (this.firstChunkDelayMs > 0) await sleep(this.firstChunkDelayMs, this.signal);
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && delayMs > 0) await sleep(delayMs, this.signal);
      if (this.signal.aborted) return;
      if (this.splitEvents) {
        const event = Buffer.from(this.chunk(pieces[i]!));
        const at = splitPoint(event);
        this.res.write(event.subarray(0, at));
        await sleep(3, this.signal);
        this.res.write(event.subarray(at));
        continue;
      }
      // Honour backpressure: the benchmarks push long answers as fast as the socket takes them.
      if (!this.res.write(this.chunk(pieces[i]!))) {
        await once(this.res, 'drain', { signal: this.signal }).catch(() => undefined);
      }
    }
    if (!this.signal.aborted) this.finish(reason);
  }

  /** Aggregates like `non_stream_response`: waits as long as the stream would, then one body. */
  async whole(pieces: readonly string[], delayMs: number, reason: string, suffix = ''): Promise<void> {
    if (delayMs > 0 && pieces.length > 1) await sleep(delayMs * (pieces.length - 1), this.signal);
    if (this.signal.aborted) return;
    const content = pieces.join('') + suffix;
    const tokens = Math.floor([...content].length / 4);
    const body = `{"id": "${this.id}", "object": "chat.completion", "created": ${Math.floor(Date.now() / 1000)}, "model": ${this.model}, "choices": [{"index": 0, "message": {"role": "assistant", "content": ${pythonJson(content)}}, "finish_reason": ${pythonJson(reason)}}], "usage": {"prompt_tokens": 0, "completion_tokens": ${tokens}, "total_tokens": ${tokens}}}`;
    send(this.res, 200, body);
  }

  /** A browser-side failure: in-band chunk when streaming, `bridge_error` JSON otherwise. */
  fail(stream: boolean, message: string, status = 500): void {
    if (stream) {
      this.startStream();
      this.res.write(this.chunk(BRIDGE_ERROR_PREFIX + message));
      this.finish('stop');
      return;
    }
    const code = status === 413 ? 'attachment_too_large' : 'processing_error';
    const error = { message: `[LMArena Bridge Error]: ${message}`, type: 'bridge_error', code };
    send(this.res, status, pythonJson({ error }));
  }
}

class FakeBridgeServer implements FakeBridge {
  url = '';
  port = 0;
  scenario: FakeBridgeScenario;
  readonly requests: RecordedRequest[] = [];
  serveProbes = 0;
  openStreams = 0;
  private refreshing = false;
  /** The userscript's socket closed ('browser-disconnect'): 503 to every chat until `reset()`. */
  private tabGone = false;
  private readonly earlyCloses: RecordedRequest[] = [];
  private readonly waiters: Array<(request: RecordedRequest) => void> = [];
  private readonly idle: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private readonly chunks: readonly string[];
  readonly server = createServer((req, res) => {
    this.route(req, res).catch(() => res.destroy());
  });

  constructor(private readonly options: FakeBridgeOptions) {
    this.scenario = options.scenario ?? 'ok';
    this.chunks = options.chunks ?? DEFAULT_CHUNKS;
  }

  nextEarlyClose(): Promise<RecordedRequest> {
    const ready = this.earlyCloses.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  reset(): void {
    this.scenario = 'ok';
    this.refreshing = false;
    this.tabGone = false;
    this.requests.length = 0;
    this.earlyCloses.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    }).then(() => {
      // Sockets are gone, but responses emit 'close' a tick later: settle their records first.
      if (this.openStreams === 0) return undefined;
      return new Promise<void>((resolve) => this.idle.push(resolve));
    });
    return this.closing;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.setHeader('server', 'uvicorn');
    res.setHeader('vary', 'Origin');
    if (req.headers.origin) res.setHeader('access-control-allow-origin', '*');
    const allowed = path === '/v1/models' ? 'GET' : path === '/v1/chat/completions' ? 'POST' : undefined;
    if (!allowed) return sendDetail(res, 404, 'Not Found');
    if (req.method !== allowed) {
      res.setHeader('allow', allowed);
      return sendDetail(res, 405, 'Method Not Allowed');
    }
    if (allowed === 'POST') return this.chat(req, res, path);
    if (this.rejectAuth(req, res)) return;
    const models = this.options.models ?? ['gpt-5', 'claude-opus-4', 'dall-e-3'];
    if (models.length === 0) {
      return send(res, 404, JSON.stringify({ error: "模型列表为空或 'models.json' 未找到。" }));
    }
    const created = Math.floor(Date.now() / 1000);
    const data = models.map((id) => ({ id, object: 'model', created, owned_by: 'LMArenaBridge' }));
    send(res, 200, JSON.stringify({ object: 'list', data }));
  }

  /** Mirrors `chat_completions`: body, then key, then Cloudflare state, then the browser tab. */
  private async chat(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? 'POST',
      path,
      headers: req.headers,
      body: undefined,
      raw: Buffer.alloc(0),
      closedEarly: false,
    };
    this.requests.push(record);
    this.openStreams++;
    const controller = new AbortController();
    res.on('close', () => {
      this.openStreams--;
      controller.abort();
      if (!res.writableFinished) {
        record.closedEarly = true;
        const waiter = this.waiters.shift();
        if (waiter) waiter(record);
        else this.earlyCloses.push(record);
      }
      if (this.openStreams === 0) for (const resolve of this.idle.splice(0)) resolve();
    });

    const raw: Buffer[] = [];
    for await (const piece of req) raw.push(piece as Buffer);
    record.raw = Buffer.concat(raw);
    const text = record.raw.toString('utf8');
    try {
      record.body = JSON.parse(text);
    } catch {
      record.body = text;
      return sendDetail(res, 400, BRIDGE_TEXTS.invalidJson);
    }
    const body = record.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      this.requests.splice(this.requests.indexOf(record), 1);
      this.serveProbes++;
    }
    if (this.rejectAuth(req, res)) return;
    if (this.refreshing) return sendDetail(res, 503, BRIDGE_TEXTS.cloudflareRefreshing);
    const scenario = this.scenario;
    if (scenario === 'tab-closed' || this.tabGone) return sendDetail(res, 503, BRIDGE_TEXTS.tabClosed);
    // `openai_req.get` on a non-object raises: FastAPI answers its plain-text 500.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return send(res, 500, 'Internal Server Error', 'text/plain; charset=utf-8');
    }
    const { model, stream: streamFlag } = body as { model?: unknown; stream?: unknown };
    const stream = pyTruthy(streamFlag);
    const reply = new Reply(
      res,
      pythonJson(pyTruthy(model) ? model : 'default_model'),
      controller.signal,
      this.options.splitEvents,
      this.options.firstChunkDelayMs,
    );
    const gap = this.options.chunkDelayMs ?? 0;
    const chunks = this.options.answer?.(body) ?? this.chunks;

    switch (scenario) {
      case 'ok':
      case 'slow': {
        const ms = scenario === 'slow' ? (this.options.slowDelayMs ?? 200) : gap;
        return stream ? reply.stream(chunks, ms, 'stop') : reply.whole(chunks, ms, 'stop');
      }
      case 'filter':
        return stream
          ? reply.stream(chunks, gap, 'content-filter')
          : reply.whole(chunks, gap, 'content-filter', BRIDGE_TEXTS.filterNotice);
      case 'error':
        return reply.fail(stream, BRIDGE_TEXTS.fetchFailure);
      case 'error-late':
        // The browser's fetch fails after the answer began: the error is one more content chunk.
        if (!stream) return reply.fail(false, BRIDGE_TEXTS.fetchFailure);
        reply.startStream();
        reply.res.write(reply.chunk(chunks[0]!));
        reply.res.write(reply.chunk(BRIDGE_ERROR_PREFIX + BRIDGE_TEXTS.fetchFailure));
        return reply.finish('stop');
      case 'attachment-too-large':
        return reply.fail(stream, BRIDGE_TEXTS.attachmentTooLarge, 413);
      case 'cloudflare':
        // The bridge tells the tab to refresh; until it reconnects every chat request gets 503.
        this.refreshing = true;
        return reply.fail(stream, BRIDGE_TEXTS.cloudflareDetected);
      case 'empty':
        if (stream) {
          reply.startStream();
          return reply.finish('stop');
        }
        return reply.fail(false, BRIDGE_TEXTS.lmArenaError);
      case 'hang':
        // Headers (streaming) or nothing at all, then silence until the client or close() ends it.
        if (stream) reply.startStream();
        return;
      case 'timeout':
        // What the bridge writes after its 360 s of silence (played without the wait).
        return reply.fail(stream, BRIDGE_TEXTS.timeout);
      case 'browser-disconnect':
        // The tab closed mid-request: the open channel gets the error, later chats a 503.
        this.tabGone = true;
        return reply.fail(stream, BRIDGE_TEXTS.browserDisconnected);
      case 'session-expired':
        return reply.fail(stream, BRIDGE_TEXTS.sessionExpired);
      case 'recaptcha':
        return reply.fail(stream, BRIDGE_TEXTS.recaptchaFailed);
      case 'rate-limited':
        return reply.fail(stream, rateLimitedText(this.options.rateLimitRetryAfter));
    }
  }

  /** Same checks as the bridge: `Bearer ` prefix, then `split(' ')[1]` compared with the key. */
  private rejectAuth(req: IncomingMessage, res: ServerResponse): boolean {
    const key = this.options.apiKey;
    if (!key) return false;
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      sendDetail(res, 401, BRIDGE_TEXTS.missingKey);
      return true;
    }
    if (header.split(' ')[1] === key) return false;
    sendDetail(res, 401, BRIDGE_TEXTS.wrongKey);
    return true;
  }
}

/**
 * Starts a fake bridge on 127.0.0.1 (`options.port`, default random). Scenarios: 'ok' (the chunks),
 * 'error' / 'attachment-too-large' (in-band error chunk when streaming; 500 / 413 `bridge_error`
 * otherwise), 'error-late' (streaming: the first chunk, then the in-band error chunk),
 * 'cloudflare' (in-band error or 500, then 503 to every chat request until `reset()`),
 * 'tab-closed' (503), 'filter' (chunks then `finish_reason "content-filter"`; non-stream appends the
 * notice), 'empty' (stop chunk only; non-stream a 500 LMArena error), 'slow' (`slowDelayMs` between
 * chunks), 'hang' (streaming: 200 + headers then silence; non-stream: silence),
 * 'timeout' / 'session-expired' / 'recaptcha' / 'rate-limited' (that text in-band when streaming,
 * a 500 `bridge_error` otherwise), 'browser-disconnect' (the same, then 503 "not connected" to every
 * chat until `reset()`).
 */
export async function startFakeBridge(options: FakeBridgeOptions = {}): Promise<FakeBridge> {
  const bridge = new FakeBridgeServer(options);
  await new Promise<void>((resolve, reject) => {
    bridge.server.once('error', reject);
    bridge.server.listen(options.port ?? 0, '127.0.0.1', () => {
      bridge.server.off('error', reject);
      resolve();
    });
  });
  bridge.port = (bridge.server.address() as AddressInfo).port;
  bridge.url = `http://127.0.0.1:${bridge.port}`;
  return bridge;
}

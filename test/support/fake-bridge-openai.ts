/**
 * Fake bridges of the two OpenAI-shaped dialects, from their documented shapes (LMARENABRIDGE.md,
 * "Others"; nothing recorded): `webai2api` (foxhui/WebAI2API: `/v1/*` behind a Bearer token,
 * `:keepalive` comments, OpenAI-shaped errors with codes BROWSER_NOT_INITIALIZED 503, SERVER_BUSY
 * 429, RECAPTCHA 403; inside a stream the error is a `data:` event then `[DONE]` on a 200) and
 * `openai` (an Ollama-like server: `/v1/chat/completions`, `/v1/models`, real HTTP statuses, a role
 * chunk first, `finish_reason` then `[DONE]`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RecordedRequest } from './fake-bridge.js';
import { FakeServer, listen } from './fake-server.js';

export type OpenAiDialect = 'webai2api' | 'openai';

export type OpenAiScenario =
  | 'ok'
  /** 200 with a role chunk, a stop chunk and `[DONE]` (non-streamed: an empty message). */
  | 'empty'
  /** webai2api: its three failures. */
  | 'browser-not-initialized'
  | 'busy'
  | 'recaptcha'
  /** openai: a 500; streamed, an error event on a 200 instead. */
  | 'error'
  /** openai: 503 "server busy" (Ollama's queue is full). */
  | 'overloaded';

export type OpenAiBridgeOptions = {
  dialect: OpenAiDialect;
  /** Required Bearer token (webai2api always has one: default `webai2api-test-key`). */
  apiKey?: string;
  /** Models listed and served; default `['llama3.2']` (openai) or `['gemini-2.5-pro']` (webai2api). */
  models?: string[];
  /** Content pieces of an answer; default `['Hello', ' from', ' a', ' home GPU.']`. */
  chunks?: string[];
  /** webai2api: `:keepalive` comments before the first event of a stream; default 3. */
  keepAlives?: number;
  /** Gap between those comments, in ms; default 5. */
  keepAliveGapMs?: number;
  /** Scenario of requests whose body names none (`scenario:<name>`); default 'ok'. */
  scenario?: OpenAiScenario;
};

export interface OpenAiBridge {
  url: string;
  /** Base URL of its OpenAI API: `<url>/v1`. */
  baseUrl: string;
  port: number;
  scenario: OpenAiScenario;
  readonly requests: RecordedRequest[];
  readonly openStreams: number;
  close(): Promise<void>;
}

/** WebAI2API's documented error codes, with their status and message. */
export const WEBAI2API_ERRORS = Object.freeze({
  'browser-not-initialized': {
    status: 503,
    code: 'BROWSER_NOT_INITIALIZED',
    message: 'Browser not initialized',
  },
  busy: { status: 429, code: 'SERVER_BUSY', message: 'Server busy, please retry later' },
  recaptcha: { status: 403, code: 'RECAPTCHA', message: 'reCAPTCHA verification failed' },
});

const SSE = 'text/event-stream; charset=utf-8';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class OpenAiServer extends FakeServer implements OpenAiBridge {
  baseUrl = '';
  scenario: OpenAiScenario;
  private readonly models: string[];
  private readonly apiKey: string | undefined;

  constructor(private readonly options: OpenAiBridgeOptions) {
    super();
    this.scenario = options.scenario ?? 'ok';
    const web = options.dialect === 'webai2api';
    this.models = options.models ?? (web ? ['gemini-2.5-pro'] : ['llama3.2']);
    this.apiKey = options.apiKey ?? (web ? 'webai2api-test-key' : undefined);
  }

  protected override route(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> | void {
    // WebAI2API is an Express app: Express's default header on every answer.
    if (this.options.dialect === 'webai2api') res.setHeader('x-powered-by', 'Express');
    const models = record.path === '/v1/models' && req.method === 'GET';
    const chat = record.path === '/v1/chat/completions' && req.method === 'POST';
    if (!models && !chat) return this.error(res, 404, 'Not Found', 'invalid_request_error', null);
    if (this.apiKey && req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return this.error(res, 401, 'Invalid API key', 'invalid_request_error', 'UNAUTHORIZED');
    }
    if (models) {
      const data = this.models.map((id) => ({
        id,
        object: 'model',
        created: 1795663374,
        owned_by: 'library',
      }));
      return this.json(res, 200, { object: 'list', data });
    }
    return this.chat(res, record);
  }

  private async chat(res: ServerResponse, record: RecordedRequest): Promise<void> {
    const text = record.raw.toString('utf8');
    let body: { model?: unknown; stream?: unknown };
    try {
      body = JSON.parse(text);
      record.body = body;
    } catch {
      return this.error(res, 400, 'invalid JSON body', 'invalid_request_error', null);
    }
    const model = String(body?.model);
    if (!this.models.includes(model)) {
      return this.error(res, 404, `model "${model}" not found, try pulling it first`, 'api_error', null);
    }
    const stream = body.stream === true;
    const scenario = (/scenario:([\w-]+)/.exec(text)?.[1] as OpenAiScenario | undefined) ?? this.scenario;
    const failure = this.failure(scenario);
    if (!stream) {
      if (failure) return this.error(res, failure.status, failure.message, failure.type, failure.code);
      const content = scenario === 'empty' ? '' : this.chunks().join('');
      return this.json(res, 200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1795663374,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
      });
    }
    // A status that is not 200 before streaming: Ollama's queue; the rest fail on a 200.
    if (failure && this.options.dialect === 'openai' && scenario === 'overloaded') {
      return this.error(res, failure.status, failure.message, failure.type, failure.code);
    }
    res.writeHead(200, { 'content-type': SSE, 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (this.options.dialect === 'webai2api') {
      for (let i = 0; i < (this.options.keepAlives ?? 3); i++) {
        res.write(':keepalive\n\n');
        await sleep(this.options.keepAliveGapMs ?? 5);
      }
    }
    if (failure) {
      const error = { message: failure.message, type: failure.type, code: failure.code };
      return void res.end(`data: ${JSON.stringify({ error })}\n\ndata: [DONE]\n\n`);
    }
    const event = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1795663374, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const pieces = scenario === 'empty' ? [] : this.chunks();
    res.write(event({ role: 'assistant', content: '' }, null));
    for (const piece of pieces) res.write(event({ content: piece }, null));
    res.end(`${event({}, 'stop')}data: [DONE]\n\n`);
  }

  private chunks(): string[] {
    return this.options.chunks ?? ['Hello', ' from', ' a', ' home GPU.'];
  }

  private failure(scenario: OpenAiScenario) {
    if (this.options.dialect === 'webai2api' && scenario in WEBAI2API_ERRORS) {
      const known = WEBAI2API_ERRORS[scenario as keyof typeof WEBAI2API_ERRORS];
      return { ...known, type: 'server_error' };
    }
    if (this.options.dialect === 'openai' && scenario === 'error') {
      return { status: 500, message: 'llama runner process has terminated', type: 'api_error', code: null };
    }
    if (this.options.dialect === 'openai' && scenario === 'overloaded') {
      const message = 'server busy, please try again.  maximum pending requests exceeded';
      return { status: 503, message, type: 'api_error', code: null };
    }
    return undefined;
  }

  private error(
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    code: string | null,
  ): void {
    this.json(res, status, { error: { message, type, param: null, code } });
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** Starts a fake `webai2api` or `openai` bridge on 127.0.0.1 (random port). */
export async function startOpenAiBridge(options: OpenAiBridgeOptions): Promise<OpenAiBridge> {
  const bridge = await listen(new OpenAiServer(options));
  bridge.baseUrl = `${bridge.url}/v1`;
  return bridge;
}

/**
 * A fake CloudWaddie LMArenaBridge (the bridge of 2026) that replays its recordings
 * (shared/fixtures/cloudwaddie/) byte for byte, one HTTP chunk per recorded read, at the recorded
 * cadence times `timeScale`: seconds of `: keep-alive` comments then an error play in milliseconds.
 * Its own checks come first, in the bridge's order: key (wrong 401, missing served as the first
 * key), per-key RPM (429 + retry-after), JSON, model, prompt length; then the request's scenario.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Recording, recording } from './cloudwaddie-recordings.js';
import type { RecordedRequest } from './fake-bridge.js';
import { FakeServer, listen } from './fake-server.js';

export const CLOUDWADDIE_KEY = 'sk-lmab-00000000-0000-4000-8000-00000000test';
/** Longest prompt the bridge takes, in characters (113 568 is refused). */
export const CLOUDWADDIE_PROMPT_LIMIT = 113_567;
/** The models of the recorded `/api/v1/models` (models-withkey.txt). */
export const CLOUDWADDIE_MODELS = Object.freeze([
  'gpt-5-chat',
  'claude-opus-4-1-20250805',
  'gemini-2.5-pro-grounding',
  'gpt-image-1',
]);

export type CloudWaddieOptions = {
  /** Configured keys; a missing key is served as the first. Default `[CLOUDWADDIE_KEY]`. */
  keys?: string[];
  /** Requests per minute per key (models and chat alike); default 60. */
  rpm?: number;
  /** Recorded seconds become `timeScale` seconds; default 0.01 (a 15 s wait plays in 150 ms). */
  timeScale?: number;
  /** Scenario for chat requests that name none (`fixture:<name>` in the body); default `text`. */
  scenario?: string;
  /** Which `/api/v1/health` recording answers; default `health`. */
  health?: 'health' | 'degraded-health' | 'cfonly-health';
};

export interface CloudWaddieBridge {
  url: string;
  /** The base URL its documentation gives: `<url>/api/v1`. */
  baseUrl: string;
  port: number;
  /** Mutable: the scenario of chat requests whose body names none. */
  scenario: string;
  readonly requests: RecordedRequest[];
  readonly openStreams: number;
  close(): Promise<void>;
}

const HANG = 'direct-workerbusy-hang-nonstream';

/** `bytes` cut after each `\n\n` (an SSE event's end); the rest, if any, as the last piece. */
export function events(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (let end = bytes.indexOf('\n\n'); end !== -1; end = bytes.indexOf('\n\n', from)) {
    pieces.push(bytes.subarray(from, end + 2));
    from = end + 2;
  }
  if (from < bytes.length) pieces.push(bytes.subarray(from));
  return pieces;
}

/** The prompt's length as the bridge counts it: the characters of every message's text. */
function promptChars(messages: unknown[]): number {
  let total = 0;
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (typeof content === 'string') total += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown } | null)?.text;
        if (typeof text === 'string') total += text.length;
      }
    }
  }
  return total;
}

class CloudWaddieServer extends FakeServer implements CloudWaddieBridge {
  baseUrl = '';
  scenario: string;
  private readonly keys: string[];
  private readonly calls = new Map<string, number[]>();
  /** The browser worker: non-streamed chats queue on it. */
  private worker: Promise<void> = Promise.resolve();

  constructor(private readonly options: CloudWaddieOptions) {
    super();
    this.scenario = options.scenario ?? 'text';
    this.keys = options.keys ?? [CLOUDWADDIE_KEY];
  }

  protected override async route(req: IncomingMessage, res: ServerResponse, record: RecordedRequest) {
    const { path } = record;
    if (path === '/api/v1/health' && req.method === 'GET') {
      return this.replay(res, recording(this.options.health ?? 'health'));
    }
    const models = path === '/api/v1/models' && req.method === 'GET';
    const chat = path === '/api/v1/chat/completions' && req.method === 'POST';
    if (!models && !chat) return this.detail(res, 404, 'Not Found');
    const key = this.keyOf(req);
    if (key === undefined) {
      return this.replay(res, recording(models ? 'models-wrongkey' : 'wrongkey-nonstream'));
    }
    const wait = this.overLimit(key);
    if (wait !== undefined)
      return this.detail(res, 429, 'Rate limit exceeded. Please try again later.', wait);
    if (models) return this.replay(res, recording('models-withkey'));
    return this.chat(res, record);
  }

  private async chat(res: ServerResponse, record: RecordedRequest): Promise<void> {
    const text = record.raw.toString('utf8');
    let body: { model?: unknown; messages?: unknown; stream?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return this.replay(res, recording('badjson-nonstream'));
    }
    if (body === null || typeof body !== 'object') return this.replay(res, recording('badjson-nonstream'));
    record.body = body;
    if (!body.model) return this.replay(res, recording('missingmodel-nonstream'));
    if (!Array.isArray(body.messages)) return this.replay(res, recording('missingmessages-nonstream'));
    const stream = body.stream === true;
    const named = /fixture:([\w-]+)/.exec(text)?.[1];
    if (!named && !CLOUDWADDIE_MODELS.includes(String(body.model))) {
      const detail = `Model '${String(body.model)}' not found. Use /api/v1/models to see available models.`;
      return this.detail(res, 404, detail);
    }
    const chars = promptChars(body.messages);
    if (!named && chars > CLOUDWADDIE_PROMPT_LIMIT) {
      const detail = `Prompt too long (${chars} characters). LMArena has a character limit of approximately ${CLOUDWADDIE_PROMPT_LIMIT} characters. Please reduce the message size.`;
      return this.detail(res, 400, detail);
    }
    const scenario = named ?? this.scenario;
    const found = this.pick(scenario, stream);
    if (!found) return this.detail(res, 500, `fake bridge: no recording for ${scenario}`);
    if (stream || found.name === HANG) return this.replay(res, found);
    // One worker: a second non-streamed chat waits for the first (13 s, then 26 s recorded).
    const turn = this.worker.then(() => this.replay(res, found));
    this.worker = turn.catch(() => undefined);
    return turn;
  }

  /** `<scenario>-stream` / `-nonstream`, or a fixture named outright (`keyrpm-3`, `health`). */
  private pick(scenario: string, stream: boolean): Recording | undefined {
    for (const name of [`${scenario}-${stream ? 'stream' : 'nonstream'}`, scenario]) {
      try {
        return recording(name);
      } catch {}
    }
    return undefined;
  }

  /** The key a request is served as; undefined for a wrong one (a missing one is the first key). */
  private keyOf(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) return this.keys[0];
    const key = header.slice('Bearer '.length).trim();
    return this.keys.includes(key) ? key : undefined;
  }

  /** Seconds to wait when `key` is over its RPM (the call is not counted then), else undefined. */
  private overLimit(key: string): number | undefined {
    const now = Date.now();
    const calls = (this.calls.get(key) ?? []).filter((at) => now - at < 60_000);
    this.calls.set(key, calls);
    if (calls.length >= (this.options.rpm ?? 60))
      return Math.max(1, Math.ceil((calls[0]! + 60_000 - now) / 1000));
    calls.push(now);
    return undefined;
  }

  /** FastAPI's HTTPException as the bridge sends it: compact JSON, its header order. */
  private detail(res: ServerResponse, status: number, detail: string, retryAfter?: number): void {
    const body = JSON.stringify({ detail });
    res.sendDate = false;
    res.writeHead(status, [
      'date',
      new Date().toUTCString(),
      'server',
      'uvicorn',
      ...(retryAfter === undefined ? [] : ['retry-after', String(retryAfter)]),
      'content-length',
      String(Buffer.byteLength(body)),
      'content-type',
      'application/json',
    ]);
    res.end(body);
  }

  /** Plays `rec`: status and headers at its ttfb, each read's bytes at its time, all scaled. */
  private replay(res: ServerResponse, rec: Recording): Promise<void> {
    const scale = this.options.timeScale ?? 0.01;
    return new Promise((resolve) => {
      const started = Date.now();
      const at = (seconds: number) => Math.max(0, seconds * scale * 1000 - (Date.now() - started));
      const timers = new Set<NodeJS.Timeout>();
      res.once('close', () => {
        for (const timer of timers) clearTimeout(timer);
        resolve();
      });
      // The worker-busy hang: no status line at all, until the client gives up.
      if (rec.status === 0) return;
      const schedule = (seconds: number, run: () => void) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, at(seconds));
        timers.add(timer);
      };
      schedule(rec.ttfb, () => {
        res.sendDate = false;
        res.writeHead(rec.status, rec.reason, rec.headers.flat());
        res.flushHeaders();
        let offset = 0;
        const next = (index: number) => {
          const read = rec.reads[index];
          if (!read) return void res.end(resolve);
          schedule(read.t, () => {
            // uvicorn sends one SSE event per HTTP chunk (raw/*.chunked.txt); curl's reads may join two.
            for (const piece of events(rec.body.subarray(offset, offset + read.n))) res.write(piece);
            offset += read.n;
            next(index + 1);
          });
        };
        next(0);
      });
    });
  }
}

/** Starts a fake CloudWaddie bridge on 127.0.0.1 (random port); see `CloudWaddieOptions`. */
export async function startCloudWaddieBridge(options: CloudWaddieOptions = {}): Promise<CloudWaddieBridge> {
  const bridge = await listen(new CloudWaddieServer(options));
  bridge.baseUrl = `${bridge.url}/api/v1`;
  return bridge;
}

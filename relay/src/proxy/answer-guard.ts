/**
 * No failure passes as success, whatever the agent. Bridges report failures inside 200s
 * (CloudWaddie's `data: {"error": …}` then `[DONE]`, v2.7.6's bare stop chunk, a JSON body with
 * `error` instead of `choices`), and an old or hostile agent passes them on as answers. This guard
 * sits between an attempt's stream and the Exchange: it holds a 2xx head back until the answer's
 * first meaningful event, and turns an error event, a bare stop, `[DONE]` or an end with no
 * content, an error body or an empty one into a stream failure, which the Exchange retries on
 * another agent (nothing reached the consumer yet) or reports as an error.
 *
 * Upstream SSE comments (`: keep-alive`) are dropped while it waits (their credit goes straight
 * back): they neither commit the 200 nor defeat failover, and the relay's own keep-alives
 * (keep-alive.ts) go on meanwhile. Once content is seen, bytes pass untouched: one branch per chunk.
 */
import { truncateChars } from '@arena-relay/shared';
import type { StreamFailure, StreamHandlers } from '../tunnel/stream.js';

/**
 * Most bytes held back before the verdict; beyond it the answer flows unchecked (an error is
 * short). Below the smallest stream window (16 KiB), so an agent never waits on credit for them.
 */
export const GUARD_HOLD_BYTES = 8 * 1024;

/** What the guard needs of the attempt's stream handle (created after the guard). */
export type GuardedStream = {
  cancel(reason: string): void;
  grant(bytes: number): void;
};

type Mode = 'sse' | 'json';
/** `comment`: an event with no data (`: keep-alive`); `wait`: data with nothing in it yet (a role chunk). */
type Verdict = 'content' | 'wait' | 'comment' | StreamFailure;

/** How a v2.7.6 bridge error starts as content (LMARENABRIDGE.md), with its leading blank line. */
const BRIDGE_ERROR_TEXT = '\n\n[LMArena Bridge Error]: ';

/** Codes some bridges put in an error body instead of a status (WebAI2API, CloudWaddie `http_403`). */
const NAMED_STATUS: Readonly<Record<string, number>> = {
  SERVER_BUSY: 429,
  RECAPTCHA: 403,
  BROWSER_NOT_INITIALIZED: 503,
};

/** The failure an upstream `{"error": …}` stands for: its status decides whose fault and the code. */
export function errorFailure(error: unknown): StreamFailure {
  const { message, code, status } = (typeof error === 'object' && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const text =
    typeof message === 'string' ? message : typeof error === 'string' ? error : JSON.stringify(error);
  const said =
    typeof code === 'number'
      ? code
      : typeof status === 'number'
        ? status
        : typeof code === 'string'
          ? (NAMED_STATUS[code] ?? Number(/^http_(\d{3})$/.exec(code)?.[1] ?? 0))
          : 0;
  const base = { message: truncateChars(`the bridge answered 200 with an error: ${text}`, 8192) };
  if (said === 401 || said === 403 || said === 429 || said === 503) {
    return { ...base, code: 'upstream_unavailable', status: said, scope: 'bridge' };
  }
  return { ...base, code: 'upstream_error', status: said >= 400 && said <= 599 ? said : 502, scope: 'model' };
}

function emptyFailure(what: string): StreamFailure {
  return {
    code: 'upstream_error',
    status: 502,
    scope: 'model',
    message: `the bridge answered 200 with ${what}`,
  };
}

/** A delta or message with nothing in it but its role (content `""`, `null`, `[]` count as nothing). */
function isEmptyPart(part: unknown): boolean {
  if (typeof part !== 'object' || part === null) return true;
  for (const [key, value] of Object.entries(part)) {
    if (key === 'role' || value === null || value === undefined || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    return false;
  }
  return true;
}

/** One parsed JSON value of a streamed event or a whole body: content, nothing yet, or a failure. */
function judge(json: unknown, whole: boolean): Verdict {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'content';
  const { error, choices } = json as { error?: unknown; choices?: unknown };
  if (error !== undefined && error !== null && !Array.isArray(choices)) return errorFailure(error);
  if (!Array.isArray(choices)) return 'content';
  let finished = false;
  for (const choice of choices as Array<Record<string, unknown> | null>) {
    const part = whole ? choice?.message : choice?.delta;
    const content = (part as { content?: unknown } | null | undefined)?.content;
    // v2.7.6's in-band failure is text: its prefix is the only mark (agents of every age read it).
    if (typeof content === 'string' && content.startsWith(BRIDGE_ERROR_TEXT)) {
      return errorFailure({ message: content.slice(BRIDGE_ERROR_TEXT.length) });
    }
    if (!isEmptyPart(part)) return 'content';
    if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) finished = true;
  }
  if (whole) return emptyFailure(choices.length === 0 ? 'no choices' : 'an empty message');
  return finished ? emptyFailure('a bare stop and no content') : 'wait';
}

/** The `data:` payload of one SSE event (its lines joined), or undefined for a comment-only event. */
function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

function judgeEvent(event: string): Verdict {
  const data = eventData(event);
  if (data === undefined) return 'comment';
  if (data.trim() === '[DONE]') return emptyFailure('[DONE] before any content');
  try {
    return judge(JSON.parse(data), false);
  } catch {
    return 'content';
  }
}

/** End of the first complete SSE event in `bytes` (past its blank line), or -1. */
function eventEnd(bytes: Buffer): number {
  const lf = bytes.indexOf('\n\n');
  const crlf = bytes.indexOf('\r\n\r\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  return lf === -1 ? -1 : lf + 2;
}

/** Begins like an error event or body (`data: {"error"` / `{"error"`): judged without its end. */
const ERROR_START = /^\s*(data: ?)?\{\s*"error"\s*:/;

export class AnswerGuard implements StreamHandlers {
  private mode: Mode | undefined;
  private head: { status: number; headers: Record<string, string> } | undefined;
  /** Events held back (role chunks and the like): forwarded with the first content. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /**
   * Bytes of an event not complete yet, as received (copies: payloads are views into frames).
   * Joined only when an event may have ended, so a bridge dribbling bytes costs linear time.
   */
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  /** The last bytes received (at most 3): an event's blank line may straddle two payloads. */
  private tail = '';
  private done = false;

  constructor(
    private readonly inner: StreamHandlers,
    private readonly stream: () => GuardedStream | undefined,
  ) {}

  // Arrow properties: callers may hold these handlers detached from the object (cross-relay streams).
  readonly onHead = (status: number, headers: Record<string, string>): void => {
    const type = (headers['content-type'] ?? '').toLowerCase();
    const mode = status < 200 || status >= 300 ? undefined : type.includes('event-stream') ? 'sse' : 'json';
    if (!mode || (mode === 'json' && !type.includes('json'))) return this.inner.onHead(status, headers);
    this.mode = mode;
    this.head = { status, headers };
  };

  readonly onData = (payload: Buffer): void => {
    // Hot path once released: one check.
    if (this.head === undefined) {
      if (!this.done) this.inner.onData(payload);
      return;
    }
    this.pieces.push(Buffer.from(payload));
    this.pendingBytes += payload.length;
    if (this.mode === 'sse' && this.mayEndEvent(payload)) this.scanEvents();
    if (this.head === undefined || this.done) return;
    if (this.heldBytes + this.pendingBytes > GUARD_HOLD_BYTES) {
      const start = (this.pieces.length > 0 ? this.pending() : (this.held[0] ?? Buffer.alloc(0)))
        .subarray(0, 64)
        .toString('latin1');
      if (ERROR_START.test(start)) return this.fail(errorFailure('an error too long to read'));
      this.release();
    }
  };

  readonly onEnd = (): void => {
    if (this.done) return;
    if (this.head !== undefined) {
      const rest = this.pending().toString('utf8');
      const verdict = this.mode === 'json' ? judgeBody(rest) : judgeEvent(rest);
      if (verdict === 'content') this.release();
      else if (typeof verdict === 'object') return this.fail(verdict);
      else return this.fail(emptyFailure('no content'));
    }
    this.inner.onEnd();
  };

  readonly onFailure = (failure: StreamFailure): void => {
    if (this.done) return;
    this.done = true;
    this.inner.onFailure(failure);
  };

  /** The pending bytes as one buffer (joined once, then kept as the only piece). */
  private pending(): Buffer {
    if (this.pieces.length > 1) this.pieces = [Buffer.concat(this.pieces, this.pendingBytes)];
    return this.pieces[0] ?? Buffer.alloc(0);
  }

  /** Whether `payload`, after the bytes before it, holds a blank line: only then is a join worth it. */
  private mayEndEvent(payload: Buffer): boolean {
    const before = this.tail;
    this.tail = (before + payload.subarray(-3).toString('latin1')).slice(-3);
    if (payload.indexOf(10) === -1 && payload.indexOf(13) === -1) return false;
    const edge = before + payload.subarray(0, 3).toString('latin1');
    return eventEnd(payload) !== -1 || /\n\n|\r\n\r\n/.test(edge);
  }

  /** Judges each complete event that is pending: drops comments, holds empty ones, stops at a verdict. */
  private scanEvents(): void {
    let rest = this.pending();
    for (let end = eventEnd(rest); end !== -1; end = eventEnd(rest)) {
      const event = rest.subarray(0, end);
      rest = rest.subarray(end);
      this.pieces = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      const verdict = judgeEvent(event.toString('utf8'));
      if (verdict === 'content') {
        this.held.push(event);
        return this.release();
      }
      if (verdict === 'comment') {
        // Not the first byte: dropped, and its credit goes back at once.
        this.stream()?.grant(event.length);
        continue;
      }
      if (verdict !== 'wait') return this.fail(verdict);
      this.held.push(event);
      this.heldBytes += event.length;
    }
  }

  /** Content: the head and everything held go through, and from now on every byte as it comes. */
  private release(): void {
    const head = this.head!;
    this.head = undefined;
    const bytes = Buffer.concat([...this.held, ...this.pieces]);
    this.held = [];
    this.pieces = [];
    this.inner.onHead(head.status, head.headers);
    if (bytes.length > 0 && !this.done) this.inner.onData(bytes);
  }

  private fail(failure: StreamFailure): void {
    this.done = true;
    this.head = undefined;
    this.held = [];
    this.pieces = [];
    this.stream()?.cancel('the answer was a failure in a 200');
    this.inner.onFailure(failure);
  }
}

/** A whole non-streamed body: empty, an error instead of choices, no content, or an answer. */
function judgeBody(text: string): Verdict {
  if (text.trim() === '') return emptyFailure('an empty body');
  try {
    return judge(JSON.parse(text), true);
  } catch {
    return 'content';
  }
}

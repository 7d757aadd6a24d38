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
import type { StreamFailure, StreamHandlers } from '../tunnel/stream.js';
import {
  ERROR_START,
  emptyFailure,
  errorFailure,
  eventEnd,
  judgeBody,
  judgeEvent,
} from './answer-verdict.js';

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

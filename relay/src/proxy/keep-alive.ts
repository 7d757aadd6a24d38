/**
 * SSE keep-alives for a streaming request that waits (in the queue, or for LMArena's first
 * token): after `everyMs` with nothing sent, the 200 goes out early and a `: keep-alive` comment
 * follows every `everyMs` until the answer's first content byte. Comments are not content, so
 * until then a failed attempt is still retried on another agent (GATEWAY_STREAM_COMMIT=keepalive).
 */
import type { ServerResponse } from 'node:http';

export const KEEP_ALIVE_COMMENT = ': keep-alive\n\n';

export class KeepAlive {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly everyMs: number,
    /** Writes the early head (once); returns false when the response is already under way. */
    private readonly open: () => boolean,
  ) {}

  start(): void {
    this.#timer = setTimeout(this.#tick, this.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.headersSent && !this.open()) return;
    this.res.write(KEEP_ALIVE_COMMENT);
    this.#timer = setTimeout(this.#tick, this.everyMs);
    this.#timer.unref();
  };
}

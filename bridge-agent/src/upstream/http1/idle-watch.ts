/**
 * The idle limit of the pool's running requests as one coarse timer for all of them: a socket
 * timeout would be re-armed by Node on every read (one timer-list insertion per relayed chunk);
 * here a read only sets `heard`, and a tick every quarter of the limit looks at every request.
 * A request fires once it has been silent for between the limit and 1.25 × the limit; a paused
 * one (waiting for the relay's credit, not for the bridge) is never silent.
 */

/** A request under watch (exchange.ts). */
export interface Watched {
  /** Bytes came since the last tick. */
  heard: boolean;
  /** Ticks in a row without a byte. */
  quiet: number;
  readonly paused: boolean;
  /** Silent for the whole limit: called once, after the request left the watch. */
  onTimeout(): void;
}

/** Ticks per limit. */
const TICKS = 4;

export class IdleWatch {
  readonly #watched = new Set<Watched>();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(limitMs: number) {
    this.#tickMs = Math.max(1, Math.ceil(limitMs / TICKS));
  }

  add(request: Watched): void {
    request.heard = false;
    request.quiet = 0;
    this.#watched.add(request);
    this.#timer ??= setInterval(this.#tick, this.#tickMs).unref();
  }

  delete(request: Watched): void {
    if (!this.#watched.delete(request) || this.#watched.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readonly #tick = (): void => {
    for (const request of this.#watched) {
      if (request.heard || request.paused) {
        request.heard = false;
        request.quiet = 0;
      } else if (++request.quiet >= TICKS) {
        this.delete(request);
        request.onTimeout();
      }
    }
  };
}

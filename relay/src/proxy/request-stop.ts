/**
 * The two ways a request ends early, whatever it is doing at the time: its deadline passes, or
 * its consumer goes away. Also the AbortSignal that a wait in the router's queue listens to,
 * made only for a request that does wait (most never do).
 */
import type { ServerResponse } from 'node:http';
import { RelayError } from '../errors/relay-error.js';

export type StopHandlers = { timeout(): void; consumerGone(): void };

export class RequestStop {
  timedOut = false;
  consumerGone = false;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly on: StopHandlers,
  ) {}

  /** Starts the deadline and watches the consumer. */
  start(): void {
    this.res.on('close', this.onClose);
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
  }

  /** The request finished: nothing stops it any more. */
  end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.res.off('close', this.onClose);
  }

  /** For the router's queue: aborted once the request stops (at once if it already has). */
  readonly signal = (): AbortSignal => {
    this.controller ??= new AbortController();
    if (this.consumerGone || this.timedOut) this.controller.abort();
    return this.controller.signal;
  };

  timeoutError(): RelayError {
    return new RelayError('timeout', `request timed out after ${this.timeoutMs / 1000}s`);
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.timedOut = true;
    this.controller?.abort();
    this.on.timeout();
  };

  private readonly onClose = (): void => {
    this.consumerGone = true;
    this.controller?.abort();
    this.on.consumerGone();
  };
}

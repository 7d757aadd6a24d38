/**
 * One attempt of an Exchange: the stream opened on the agent its Route chose, and the data
 * boundary. The agent's frames (judged first by the AnswerGuard) reach the consumer's response
 * only through this attempt's handlers, synchronously from the socket's message handler. An
 * attempt settles once: committed (the consumer has bytes of it: nothing more is retried), failed
 * before that (the Exchange may try another agent), or stopped (time ran out, the consumer left).
 * What follows a commit, a failure told in the answer or the request's end, is the Exchange's.
 */
import { type RelayError, toRelayError } from '../errors/relay-error.js';
import type { OpenRequest } from '../routing/routable-agent.js';
import type { Route } from '../routing/route.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from '../tunnel/stream.js';
import { AnswerGuard } from './answer-guard.js';
import type { ConsumerWriter } from './consumer-writer.js';
import { attemptBegun, attemptEnded, reportAgentFailure } from './exchange-report.js';
import type { ExchangeRequest } from './exchange-request.js';
import { failureToError } from './failures.js';
import type { AttemptRecord } from './observer.js';
import type { RequestOutcome } from './outcome.js';

export type AttemptOutcome =
  | { kind: 'committed' }
  | { kind: 'failed'; failure: StreamFailure }
  | { kind: 'stopped' };

/** What an attempt needs of its Exchange. */
export interface AttemptHost {
  /** The consumer request: its id and logger. */
  readonly request: Pick<ExchangeRequest, 'requestId' | 'log'>;
  /** The consumer's side, shared by every attempt of the request. */
  readonly writer: ConsumerWriter;
  /** True once the request ended: frames still on their way are dropped. */
  readonly finished: boolean;
  /** Milliseconds since the request started. */
  elapsed(): number;
  /** The request ended with `outcome` (the first call counts). */
  finish(outcome: RequestOutcome): void;
  /** After the commit: the consumer gets `error` in the answer's own shape, and the request ends. */
  failAfterCommit(error: RelayError): void;
}

export class Attempt implements StreamHandlers {
  /** This attempt's entry in the request's record: begun now, ended by a failure or the request's end. */
  readonly record: AttemptRecord;
  /** The consumer has bytes of this attempt: nothing more is retried. */
  committed = false;
  private handle: StreamHandle | undefined;
  private settle: ((outcome: AttemptOutcome) => void) | undefined;
  private readonly writer: ConsumerWriter;

  constructor(
    private readonly host: AttemptHost,
    readonly route: Route,
  ) {
    this.writer = host.writer;
    this.record = attemptBegun(route.session, route.model, host.elapsed());
  }

  /** Opens the stream on the route's agent; resolves once the attempt settles. */
  run(request: OpenRequest): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      // The answer is judged before its first byte: a failure in a 200 is still retried.
      const guard = new AnswerGuard(this, () => this.handle);
      this.handle = this.route.session.open(request, guard);
      this.writer.attach(this.handle);
    });
  }

  /** Tells the agent to stop (no handler fires after it). */
  cancel(reason: string): void {
    this.handle?.cancel(reason);
  }

  /** The request stopped early: an attempt that has not settled yet settles as `stopped`. */
  stop(): void {
    this.resolve({ kind: 'stopped' });
  }

  /** The agent failed this attempt: its record says how, and its Route tells routing (cooldown). */
  failed(failure: StreamFailure): void {
    attemptEnded(this.record, this.host.elapsed(), { failure });
    const { route } = this;
    reportAgentFailure(this.host.request.log, route.session.id, failure, route.failed(failure));
  }

  /*
   * The handlers. A throw in a tap (an answer past a front-end's cap, or a bug) must end this one
   * request, never the process: each handler is guarded (a try block costs nothing per chunk
   * until it throws). Methods, not closures: the guard calls them on this object.
   */

  onHead(status: number, headers: Record<string, string>): void {
    try {
      this.route.succeeded();
      const refused = this.writer.head(status, headers, this.route.pin);
      if (refused) {
        this.handle?.cancel('refused after an early 200');
        this.commit();
        return this.host.failAfterCommit(refused);
      }
      if (this.writer.committed) this.commit();
    } catch (thrown) {
      this.answerFailed(thrown);
    }
  }

  /** Hot path: one payload, straight to the consumer writer. */
  onData(payload: Buffer): void {
    // An answer already failed (a tap threw on the head the guard released with these bytes).
    if (this.host.finished) return;
    try {
      this.writer.data(payload);
    } catch (thrown) {
      return this.answerFailed(thrown);
    }
    if (!this.committed && this.writer.committed) this.commit();
  }

  onEnd(): void {
    try {
      this.commit();
      this.host.finish(this.writer.end());
    } catch (thrown) {
      this.answerFailed(thrown);
    }
  }

  onFailure(failure: StreamFailure): void {
    try {
      if (!this.committed) {
        this.writer.restart();
        return this.resolve({ kind: 'failed', failure });
      }
      this.failed(failure);
      this.host.failAfterCommit(failureToError(failure));
    } catch (thrown) {
      this.answerFailed(thrown);
    }
  }

  /**
   * A tap threw on the data path: the agent is cancelled (its credit stops), and the consumer
   * gets the error — a RelayError as it is (e.g. an answer too large to translate), anything else
   * as an internal error — in the API's shape, or an error event after an early 200. Nothing is
   * retried: the answer was this agent's to give.
   */
  private answerFailed(thrown: unknown): void {
    const error = toRelayError(thrown);
    this.handle?.cancel(`the relay could not pass the answer on: ${error.message}`.slice(0, 500));
    const { requestId, log } = this.host.request;
    if (error.code === 'internal_error') {
      log().error({ err: thrown, requestId }, 'response tap threw');
    } else {
      log().warn({ requestId, code: error.code, reason: error.message }, 'answer refused');
    }
    this.commit();
    if (this.host.finished) return;
    this.host.failAfterCommit(error);
  }

  /** From now on the consumer has bytes of this attempt: the Exchange stops trying others. */
  private commit(): void {
    if (this.committed) return;
    this.committed = true;
    this.resolve({ kind: 'committed' });
  }

  private resolve(outcome: AttemptOutcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }
}

/**
 * One consumer request's life on the relay, as a state machine: acquire an agent, open a stream,
 * retry on another agent while nothing has reached the consumer, then let the answer through.
 * Owns the attempts and what the timeout or a consumer that leaves does to them (when those
 * happen is request-stop.ts's); the bytes are the ConsumerWriter's (consumer-writer.ts), the
 * reports exchange-report.ts's, and each attempt's outcome goes back to routing through its Route.
 */
import { RelayError, toRelayError } from '../errors/relay-error.js';
import type { Route } from '../routing/router.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from '../tunnel/stream.js';
import { AnswerGuard } from './answer-guard.js';
import { ConsumerWriter } from './consumer-writer.js';
import {
  attemptBegun,
  attemptEnded,
  reportAgentFailure,
  reportAttemptFailed,
  reportFinished,
} from './exchange-report.js';
import { type ExchangeDeps, type ExchangeRequest, openRequestFor } from './exchange-request.js';
import { failureToError, isRetryable } from './failures.js';
import type { AttemptRecord, RequestUsage } from './observer.js';
import { classifyOutcome, type RequestOutcome } from './outcome.js';
import type { ExchangeInfo } from './registry.js';
import { RequestStop } from './request-stop.js';

export type { ExchangeDeps, ExchangeRequest } from './exchange-request.js';
export type { ResponseTap } from './response-tap.js';

type AttemptOutcome =
  | { kind: 'committed' }
  | { kind: 'failed'; failure: StreamFailure }
  | { kind: 'stopped' };

const NO_USAGE: RequestUsage = Object.freeze({
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  estimated: false,
});

/** What `run` reports once the response is in the consumer's hands (or the consumer left). */
export type ExchangeResult = 'committed' | 'aborted';

export class Exchange implements ExchangeInfo {
  readonly id: string;
  readonly keyId: string;
  readonly model: string;
  readonly stream: boolean;
  readonly startedAt = new Date();
  attempts = 0;

  private handle: StreamHandle | undefined;
  private route: Route | undefined;
  private settle: ((outcome: AttemptOutcome) => void) | undefined;
  private committed = false;
  private finished = false;
  private readonly started = performance.now();
  /** Every agent tried, for the request log; the last one is the current attempt. */
  private readonly tried: AttemptRecord[] = [];
  private readonly writer: ConsumerWriter;
  private readonly stop: RequestStop;

  constructor(
    private readonly deps: ExchangeDeps,
    private readonly request: ExchangeRequest,
  ) {
    this.id = request.requestId;
    this.keyId = request.keyId;
    this.model = request.model;
    this.stream = request.stream;
    this.writer = new ConsumerWriter(request.res, {
      requestId: request.requestId,
      stream: request.stream,
      streamWindow: deps.streamWindow,
      tap: request.tap,
      onFirstByte: (at) => this.route?.session.recordTtfb(at - this.started),
      keepAliveMs: deps.keepAliveMs,
    });
    this.stop = new RequestStop(request.res, deps.requestTimeoutMs, {
      timeout: this.onTimeout,
      consumerGone: this.onConsumerClose,
    });
  }

  get agentId(): string | undefined {
    return this.route?.session.id;
  }

  get clientId(): string | undefined {
    return this.route?.session.clientId;
  }

  /** Payload bytes relayed to the consumer. */
  get bytes(): number {
    return this.writer.bytes;
  }

  /**
   * Resolves once the response is committed (headers and first bytes written) or the consumer
   * left; rejects with a RelayError when every attempt failed before the first byte.
   */
  async run(): Promise<ExchangeResult> {
    const { stop } = this;
    this.deps.registry.add(this);
    stop.start();
    const tried = new Set<string>();
    let models = this.request.models ?? [this.request.model];
    let lastFailure: StreamFailure | undefined;
    try {
      for (let attempt = 0; attempt <= this.deps.retryAttempts; attempt++) {
        let route: Route;
        try {
          route = await this.deps.router.acquire({
            requestId: this.id,
            models,
            tried,
            pin: this.request.pin,
            promptChars: this.request.promptChars,
            clientGate: this.request.admission?.clientGate,
            signal: stop.signal,
          });
        } catch (error) {
          if (stop.consumerGone || stop.timedOut) return this.stopped();
          throw lastFailure ? failureToError(lastFailure) : error;
        }
        if (stop.consumerGone || stop.timedOut) {
          route.session.release();
          return this.stopped();
        }
        tried.add(route.session.id);
        this.attempts++;
        this.tried.push(attemptBegun(route.session, route.model, performance.now() - this.started));
        const outcome = await this.attempt(route);
        if (outcome.kind === 'committed') return 'committed';
        if (outcome.kind === 'stopped') return this.stopped();
        lastFailure = outcome.failure;
        attemptEnded(this.tried.at(-1), performance.now() - this.started, { failure: lastFailure });
        this.routeFailed(route, lastFailure);
        // That agent's client slot is free again at once, whatever comes next.
        this.request.admission?.attemptFailed(route.session.id);
        reportAttemptFailed(this.deps, this.request.log, {
          requestId: this.id,
          agentId: route.session.id,
          failure: lastFailure,
          attempt,
        });
        if (!isRetryable(lastFailure)) break;
        // A fallback list moves on past a model that failed; its last model is retried elsewhere.
        if (models.length > 1) models = models.filter((model) => model !== route.model);
      }
      throw failureToError(lastFailure!);
    } catch (error) {
      const relayError = error instanceof RelayError ? error : undefined;
      // The 200 went out early: the failure is told in the stream, in the API's own shape.
      if (relayError && this.writer.openedEarly) {
        this.failAfterCommit(relayError);
        return 'committed';
      }
      this.writer.status = relayError?.status ?? 500;
      this.finish(relayError?.code ?? 'internal_error');
      throw error;
    }
  }

  /** The request stopped early: the consumer left, or (a RelayError) time ran out. */
  private stopped(): ExchangeResult {
    if (this.stop.consumerGone) return 'aborted';
    throw this.stop.timeoutError();
  }

  private attempt(route: Route): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.route = route;
      // Each attempt's answer is judged before its first byte: a failure in a 200 is still retried.
      const guard = new AnswerGuard(this.handlers, () => this.handle);
      this.handle = route.session.open(openRequestFor(this.request, route.model), guard);
      this.writer.attach(this.handle);
    });
  }

  private resolveAttempt(outcome: AttemptOutcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  /**
   * The data boundary: the agent's frames reach the consumer's response (and its tap) only
   * through here, synchronously from the socket's message handler. A throw in a tap (an answer
   * past a front-end's cap, or a bug) must end this one request, never the process: each handler
   * is guarded (a try block costs nothing per chunk until it throws).
   */
  private readonly handlers: StreamHandlers = {
    onHead: (status, headers) => {
      try {
        const route = this.route!;
        route.succeeded();
        const refused = this.writer.head(status, headers, route.pin);
        if (refused) {
          this.handle?.cancel('refused after an early 200');
          this.commit();
          return this.failAfterCommit(refused);
        }
        if (this.writer.committed) this.commit();
      } catch (thrown) {
        this.answerFailed(thrown);
      }
    },
    onData: (payload) => {
      // An answer already failed (a tap threw on the head the guard released with these bytes).
      if (this.finished) return;
      try {
        this.writer.data(payload);
      } catch (thrown) {
        return this.answerFailed(thrown);
      }
      if (!this.committed && this.writer.committed) this.commit();
    },
    onEnd: () => {
      try {
        this.commit();
        this.finish(this.writer.end());
      } catch (thrown) {
        this.answerFailed(thrown);
      }
    },
    onFailure: (failure) => {
      try {
        if (!this.committed) {
          this.writer.restart();
          return this.resolveAttempt({ kind: 'failed', failure });
        }
        attemptEnded(this.tried.at(-1), performance.now() - this.started, { failure });
        this.routeFailed(this.route!, failure);
        this.failAfterCommit(failureToError(failure));
      } catch (thrown) {
        this.answerFailed(thrown);
      }
    },
  };

  /**
   * A tap threw on the data path: the agent is cancelled (its credit stops), and the consumer
   * gets the error — a RelayError as it is (e.g. an answer too large to translate), anything else
   * as an internal error — in the API's shape, or an error event after an early 200. Nothing is
   * retried: the answer was this agent's to give.
   */
  private answerFailed(thrown: unknown): void {
    const error = toRelayError(thrown);
    this.handle?.cancel(`the relay could not pass the answer on: ${error.message}`.slice(0, 500));
    if (error.code === 'internal_error') {
      this.request.log().error({ err: thrown, requestId: this.id }, 'response tap threw');
    } else {
      this.request
        .log()
        .warn({ requestId: this.id, code: error.code, reason: error.message }, 'answer refused');
    }
    this.commit();
    if (this.finished) return;
    this.failAfterCommit(error);
  }

  /** From now on the consumer has bytes of this attempt: nothing more is retried. */
  private commit(): void {
    if (this.committed) return;
    this.committed = true;
    this.resolveAttempt({ kind: 'committed' });
  }

  private routeFailed(route: Route, failure: StreamFailure): void {
    reportAgentFailure(this.request.log, route.session.id, failure, route.failed(failure));
  }

  private failAfterCommit(error: RelayError): void {
    this.writer.fail(error);
    this.finish(error.code);
  }

  private readonly onTimeout = (): void => {
    this.handle?.cancel('request timeout');
    if (!this.committed) return this.resolveAttempt({ kind: 'stopped' });
    this.failAfterCommit(this.stop.timeoutError());
  };

  private readonly onConsumerClose = (): void => {
    if (this.finished) return;
    this.handle?.cancel('consumer disconnected');
    this.resolveAttempt({ kind: 'stopped' });
    this.finish('consumer_disconnected');
  };

  private finish(outcome: RequestOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.stop.end();
    this.writer.close();
    this.deps.registry.delete(this);
    const { firstByteAt, status, bytes } = this.writer;
    const agent = this.route?.session;
    const durationMs = performance.now() - this.started;
    attemptEnded(this.tried.at(-1), durationMs, { outcome });
    // Tokens count only for a request that got an answer (a 2xx head): what the consumer
    // received, also when it was cut short. The admission is settled with them, once.
    const usage = this.request.meter?.usage(status >= 200 && status < 300) ?? NO_USAGE;
    this.request.admission?.settle(usage.totalTokens);
    reportFinished(this.deps, this.request.log, {
      requestId: this.id,
      keyId: this.keyId,
      clientId: agent?.clientId,
      agentId: agent?.id,
      // The model that served (an alias or fallback names another): usage is counted under it.
      model: this.route?.model ?? this.model,
      modelAsked: this.model,
      modelServed: this.committed ? this.route?.model : undefined,
      tried: this.tried,
      stream: this.stream,
      outcome,
      result: classifyOutcome(outcome),
      status,
      attempts: this.attempts,
      bytes,
      usage,
      ttfbMs: firstByteAt ? firstByteAt - this.started : undefined,
      durationMs,
      startedAt: this.startedAt,
    });
  }
}

/**
 * One consumer request's life on the relay: acquire an agent, try it (attempt.ts), retry on
 * another agent while nothing has reached the consumer, then let the answer through. Owns the
 * attempt loop, what the timeout or a consumer that leaves does to it (when those happen is
 * request-stop.ts's), and the request's one end; the bytes are the ConsumerWriter's
 * (consumer-writer.ts), each attempt's frames its Attempt's, the reports exchange-report.ts's, and
 * each attempt's outcome goes back to routing through its Route.
 */
import { RelayError } from '../errors/relay-error.js';
import type { Route } from '../routing/router.js';
import type { StreamFailure } from '../tunnel/stream.js';
import { Attempt, type AttemptHost } from './attempt.js';
import { ConsumerWriter } from './consumer-writer.js';
import { attemptEnded, reportAttemptFailed, reportFinished } from './exchange-report.js';
import { type ExchangeDeps, type ExchangeRequest, openRequestFor } from './exchange-request.js';
import { failureToError, isRetryable } from './failures.js';
import { type AttemptRecord, NO_USAGE } from './observer.js';
import { classifyOutcome, type RequestOutcome } from './outcome.js';
import type { ExchangeInfo } from './registry.js';
import { RequestStop } from './request-stop.js';

export type { ExchangeDeps, ExchangeRequest } from './exchange-request.js';
export type { ResponseTap } from './response-tap.js';

/** What `run` reports once the response is in the consumer's hands (or the consumer left). */
export type ExchangeResult = 'committed' | 'aborted';

export class Exchange implements ExchangeInfo, AttemptHost {
  readonly startedAt = new Date();
  attempts = 0;
  /** True once the request ended and was reported (`finish`). */
  finished = false;
  readonly writer: ConsumerWriter;
  /** The attempt under way, or the last one. */
  private current: Attempt | undefined;
  private readonly started = performance.now();
  /** Every agent tried, for the request log; the last one is the current attempt. */
  private readonly tried: AttemptRecord[] = [];
  private readonly stop: RequestStop;

  constructor(
    private readonly deps: ExchangeDeps,
    readonly request: ExchangeRequest,
  ) {
    this.writer = new ConsumerWriter(request.res, {
      requestId: request.requestId,
      stream: request.stream,
      streamWindow: deps.streamWindow,
      tap: request.tap,
      onFirstByte: (at) => this.current?.route.session.recordTtfb(at - this.started),
      keepAliveMs: deps.keepAliveMs,
    });
    this.stop = new RequestStop(request.res, deps.requestTimeoutMs, {
      timeout: this.onTimeout,
      consumerGone: this.onConsumerClose,
    });
  }

  get agentId(): string | undefined {
    return this.current?.route.session.id;
  }

  get clientId(): string | undefined {
    return this.current?.route.session.clientId;
  }

  /** Payload bytes relayed to the consumer. */
  get bytes(): number {
    return this.writer.bytes;
  }

  elapsed(): number {
    return performance.now() - this.started;
  }

  /**
   * Resolves once the response is committed (headers and first bytes written) or the consumer
   * left; rejects with a RelayError when every attempt failed before the first byte.
   */
  async run(): Promise<ExchangeResult> {
    const { stop, request } = this;
    this.deps.registry.add(this);
    stop.start();
    const tried = new Set<string>();
    let models = request.models ?? [request.model];
    let lastFailure: StreamFailure | undefined;
    try {
      for (let attempt = 0; attempt <= this.deps.retryAttempts; attempt++) {
        let route: Route;
        try {
          route = await this.deps.router.acquire({
            requestId: request.requestId,
            models,
            tried,
            pin: request.pin,
            promptChars: request.promptChars,
            clientGate: request.admission?.clientGate,
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
        const current = new Attempt(this, route);
        this.current = current;
        this.tried.push(current.record);
        const outcome = await current.run(openRequestFor(request, route.model));
        if (outcome.kind === 'committed') return 'committed';
        if (outcome.kind === 'stopped') return this.stopped();
        lastFailure = outcome.failure;
        current.failed(lastFailure);
        // That agent's client slot is free again at once, whatever comes next.
        request.admission?.attemptFailed(route.session.id);
        reportAttemptFailed(this.deps, request.log, {
          requestId: request.requestId,
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

  failAfterCommit(error: RelayError): void {
    this.writer.fail(error);
    this.finish(error.code);
  }

  private readonly onTimeout = (): void => {
    const current = this.current;
    current?.cancel('request timeout');
    if (!current?.committed) return current?.stop();
    this.failAfterCommit(this.stop.timeoutError());
  };

  private readonly onConsumerClose = (): void => {
    if (this.finished) return;
    this.current?.cancel('consumer disconnected');
    this.current?.stop();
    this.finish('consumer_disconnected');
  };

  finish(outcome: RequestOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.stop.end();
    this.writer.close();
    this.deps.registry.delete(this);
    const { firstByteAt, status, bytes } = this.writer;
    const { current, request } = this;
    const agent = current?.route.session;
    const durationMs = this.elapsed();
    attemptEnded(current?.record, durationMs, { outcome });
    // Tokens count only for a request that got an answer (a 2xx head): what the consumer
    // received, also when it was cut short. The admission is settled with them, once.
    const usage = request.meter?.usage(status >= 200 && status < 300) ?? NO_USAGE;
    request.admission?.settle(usage.totalTokens);
    reportFinished(this.deps, request.log, {
      requestId: request.requestId,
      keyId: request.keyId,
      clientId: agent?.clientId,
      agentId: agent?.id,
      // The model that served (an alias or fallback names another): usage is counted under it.
      model: current?.route.model ?? request.model,
      modelAsked: request.model,
      modelServed: current?.committed ? current.route.model : undefined,
      tried: this.tried,
      stream: request.stream,
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

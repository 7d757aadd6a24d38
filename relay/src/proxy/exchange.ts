/**
 * One consumer request's life on the relay: acquire an agent, open a stream, retry on another
 * agent while nothing has reached the consumer, then copy the agent's bytes to the consumer with
 * credit-based flow control. Owns the timeout and the consumer-disconnect cancellation.
 */
import type { ServerResponse } from 'node:http';
import { tickCorker } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { RelayError, type RelayErrorCode } from '../errors/relay-error.js';
import type { RoutableAgent } from '../routing/routable-agent.js';
import type { Route, Router } from '../routing/router.js';
import type { Store } from '../store/store.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from '../tunnel/stream.js';
import { countsAgainstAgent, failureToError, isRetryable } from './failures.js';
import type { ExchangeObserver } from './observer.js';
import type { ExchangeInfo, ExchangeRegistry } from './registry.js';
import { consumerHeaders } from './response-headers.js';

export type ExchangeDeps = {
  /** The relay's logger; requests log through their own child (`ExchangeRequest.log`). */
  logger: Logger;
  router: Router;
  observer: ExchangeObserver;
  store: Pick<Store, 'recordClientOutcome'>;
  registry: ExchangeRegistry;
  retryAttempts: number;
  requestTimeoutMs: number;
  streamWindow: number;
};

export type ExchangeRequest = {
  requestId: string;
  keyId: string;
  model: string;
  stream: boolean;
  path: string;
  body: unknown;
  /** `body` as the consumer's JSON bytes, when it goes to the agent unchanged. */
  bodyJson?: Buffer | undefined;
  sessionName: string | undefined;
  res: ServerResponse;
  /** The request's logger, made on first call. */
  log: () => Logger;
  /** Sees (and may add to) the bytes of the answer: usage metering, `include_usage`. */
  tap?: ResponseTap | undefined;
};

/** A hook on one request's byte path. Called synchronously, once per payload: keep it cheap. */
export interface ResponseTap {
  /**
   * When present, writes the response head instead of the Exchange (which otherwise writes it as
   * soon as the agent's `head` arrives): lets a tap that rewrites the answer choose its status.
   */
  head?(res: ServerResponse, status: number, headers: Record<string, string>): void;
  /** Writes `payload` (or what stands for it) to `res`; returns what `res.write` returned. */
  write(res: ServerResponse, payload: Buffer): boolean;
  /**
   * The agent ended the stream: write what must come before the response ends. A tap that turned
   * the answer into an error (having written that error's head) returns its code.
   */
  end(res: ServerResponse): RelayErrorCode | undefined;
  /**
   * The answer failed after the head went out: write the failure in the tap's own API shape and
   * end `res`. Without it the Exchange writes an OpenAI SSE error event (or cuts a JSON body).
   */
  fail?(res: ServerResponse, error: RelayError): void;
  /**
   * The attempt failed while nothing had reached the consumer (a tap whose `head` defers the
   * response, such as a whole-answer rewrite): forget what it saw, another agent is tried.
   */
  restart?(): void;
}

type AttemptOutcome =
  | { kind: 'committed' }
  | { kind: 'failed'; failure: StreamFailure }
  | { kind: 'stopped' };

/** What `run` reports once the response is in the consumer's hands (or the consumer left). */
export type ExchangeResult = 'committed' | 'aborted';

export class Exchange implements ExchangeInfo {
  readonly id: string;
  readonly keyId: string;
  readonly model: string;
  readonly stream: boolean;
  readonly startedAt = new Date();
  bytes = 0;
  attempts = 0;

  private handle: StreamHandle | undefined;
  private agent: RoutableAgent | undefined;
  private route: Route | undefined;
  private settle: ((outcome: AttemptOutcome) => void) | undefined;
  private committed = false;
  private finished = false;
  private consumerGone = false;
  private timedOut = false;
  /** Created only if the request has to wait in the queue (most never do). */
  private stopController: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unacked = 0;
  private waitingDrain = false;
  private readonly grantThreshold: number;
  private readonly started = performance.now();
  /** Frames that arrive in one socket read reach the consumer in one write. */
  private readonly cork: () => void;
  private firstByteAt = 0;
  private status = 0;

  constructor(
    private readonly deps: ExchangeDeps,
    private readonly request: ExchangeRequest,
  ) {
    this.id = request.requestId;
    this.keyId = request.keyId;
    this.model = request.model;
    this.stream = request.stream;
    this.grantThreshold = Math.max(1, deps.streamWindow >> 2);
    this.cork = tickCorker(request.res);
  }

  get agentId(): string | undefined {
    return this.agent?.id;
  }

  get clientId(): string | undefined {
    return this.agent?.clientId;
  }

  /**
   * Resolves once the response is committed (headers and first bytes written) or the consumer
   * left; rejects with a RelayError when every attempt failed before the first byte.
   */
  async run(): Promise<ExchangeResult> {
    const { res } = this.request;
    this.deps.registry.add(this);
    res.on('close', this.onConsumerClose);
    this.timer = setTimeout(this.onTimeout, this.deps.requestTimeoutMs);
    const tried = new Set<string>();
    let lastFailure: StreamFailure | undefined;
    try {
      for (let attempt = 0; attempt <= this.deps.retryAttempts; attempt++) {
        let route: Route;
        try {
          route = await this.deps.router.acquire({
            requestId: this.id,
            model: this.request.model,
            tried,
            sessionName: this.request.sessionName,
            signal: () => {
              this.stopController ??= new AbortController();
              if (this.consumerGone || this.timedOut) this.stopController.abort();
              return this.stopController.signal;
            },
          });
        } catch (error) {
          if (this.consumerGone) return 'aborted';
          if (this.timedOut) throw this.timeoutError();
          throw lastFailure ? failureToError(lastFailure) : error;
        }
        if (this.consumerGone || this.timedOut) {
          route.session.release();
          if (this.consumerGone) return 'aborted';
          throw this.timeoutError();
        }
        tried.add(route.session.id);
        this.attempts++;
        const outcome = await this.attempt(route);
        if (outcome.kind === 'committed') return 'committed';
        if (outcome.kind === 'stopped') {
          if (this.consumerGone) return 'aborted';
          throw this.timeoutError();
        }
        lastFailure = outcome.failure;
        this.onAgentFailure(route.session, lastFailure);
        this.deps.observer.attemptFailed?.({
          requestId: this.id,
          agentId: route.session.id,
          code: lastFailure.code,
        });
        this.request
          .log()
          .warn(
            { agentId: route.session.id, code: lastFailure.code, attempt },
            'attempt failed before first byte',
          );
        if (!isRetryable(lastFailure)) break;
      }
      throw failureToError(lastFailure!);
    } catch (error) {
      const relayError = error instanceof RelayError ? error : undefined;
      this.status = relayError?.status ?? 500;
      this.finish(relayError?.code ?? 'internal_error');
      throw error;
    }
  }

  private attempt(route: Route): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.route = route;
      this.agent = route.session;
      this.handle = route.session.open(
        {
          method: 'POST',
          path: this.request.path,
          headers: { 'content-type': 'application/json' },
          body: this.request.body,
          bodyJson: this.request.bodyJson,
        },
        this.handlers,
      );
    });
  }

  private resolveAttempt(outcome: AttemptOutcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  private readonly handlers: StreamHandlers = {
    onHead: (status, headers) => {
      const agent = this.agent!;
      const extra: Record<string, string> = {};
      const { sessionName } = this.request;
      if (sessionName) {
        this.deps.router.sticky.set(sessionName, agent.agentKey);
        if (this.route?.pin) extra['x-session-pin'] = this.route.pin;
      }
      this.deps.router.cooldown.success(agent.agentKey);
      this.status = status;
      const out = consumerHeaders(headers, {
        stream: this.request.stream,
        requestId: this.request.requestId,
        extra,
      });
      const tap = this.request.tap;
      if (tap?.head) tap.head(this.request.res, status, out);
      else this.request.res.writeHead(status, out);
      // A tap may hold the head back (it answers once the whole answer is in): until something
      // reaches the consumer, a failure is still retried on another agent.
      if (this.request.res.headersSent) this.commit();
    },
    onData: (payload) => {
      const { res } = this.request;
      if (this.firstByteAt === 0) {
        this.firstByteAt = performance.now();
        this.agent?.recordTtfb(this.firstByteAt - this.started);
      }
      this.bytes += payload.byteLength;
      this.unacked += payload.byteLength;
      this.cork();
      const tap = this.request.tap;
      if (!(tap ? tap.write(res, payload) : res.write(payload))) {
        if (!this.waitingDrain) {
          this.waitingDrain = true;
          res.once('drain', this.onDrain);
        }
      } else if (!this.waitingDrain && this.unacked >= this.grantThreshold) {
        this.handle?.grant(this.unacked);
        this.unacked = 0;
      }
      if (!this.committed && res.headersSent) this.commit();
    },
    onEnd: () => {
      this.commit();
      const { res, tap } = this.request;
      const failed = tap?.end(res);
      res.end();
      if (failed) this.status = res.statusCode;
      this.finish(failed ?? 'ok');
    },
    onFailure: (failure) => {
      if (!this.committed) {
        this.request.tap?.restart?.();
        this.bytes = 0;
        this.unacked = 0;
        return this.resolveAttempt({ kind: 'failed', failure });
      }
      if (this.agent && countsAgainstAgent(failure)) this.onAgentFailure(this.agent, failure);
      this.failAfterCommit(failureToError(failure));
    },
  };

  /** From now on the consumer has bytes of this attempt: nothing more is retried. */
  private commit(): void {
    if (this.committed) return;
    this.committed = true;
    this.resolveAttempt({ kind: 'committed' });
  }

  private onAgentFailure(agent: RoutableAgent, failure: StreamFailure): void {
    if (!countsAgainstAgent(failure)) return;
    const benchedMs = this.deps.router.cooldown.failure(
      agent.agentKey,
      `${failure.code}: ${failure.message}`,
    );
    if (benchedMs !== undefined) {
      this.request
        .log()
        .warn({ agentId: agent.id, benchedMs, code: failure.code }, 'agent benched by cooldown');
    }
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (this.unacked > 0) {
      this.handle?.grant(this.unacked);
      this.unacked = 0;
    }
  };

  /** After the first byte nothing is retried: an SSE error event (or a cut JSON body), then the end. */
  private failAfterCommit(error: RelayError): void {
    const { res, tap } = this.request;
    if (tap?.fail) {
      if (!res.writableEnded) tap.fail(res, error);
    } else if (this.request.stream && !res.writableEnded) {
      res.end(`data: ${JSON.stringify(error.body())}\n\n`);
    } else {
      res.destroy();
    }
    this.finish(error.code);
  }

  private timeoutError(): RelayError {
    return new RelayError('timeout', `request timed out after ${this.deps.requestTimeoutMs / 1000}s`);
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.timedOut = true;
    this.handle?.cancel('request timeout');
    this.stopController?.abort();
    if (!this.committed) return this.resolveAttempt({ kind: 'stopped' });
    this.failAfterCommit(this.timeoutError());
  };

  private readonly onConsumerClose = (): void => {
    if (this.finished) return;
    this.consumerGone = true;
    this.handle?.cancel('consumer disconnected');
    this.stopController?.abort();
    this.resolveAttempt({ kind: 'stopped' });
    this.finish('consumer_disconnected');
  };

  private finish(outcome: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.request.res.off('close', this.onConsumerClose);
    this.deps.registry.delete(this);
    const durationMs = performance.now() - this.started;
    const ttfbMs = this.firstByteAt ? this.firstByteAt - this.started : undefined;
    if (this.agent) {
      // Buffered in memory by the store; never slows the response.
      void this.deps.store.recordClientOutcome(this.agent.clientId, { ok: outcome === 'ok', durationMs });
    }
    this.deps.observer.finished?.({
      requestId: this.id,
      keyId: this.keyId,
      clientId: this.agent?.clientId,
      agentId: this.agent?.id,
      model: this.model,
      stream: this.stream,
      outcome,
      status: this.status,
      attempts: this.attempts,
      bytes: this.bytes,
      ttfbMs,
      durationMs,
      startedAt: this.startedAt,
    });
    // Without info logging, the request's own logger need not even be made.
    if (!this.deps.logger.isLevelEnabled('info')) return;
    this.request.log().info(
      {
        agentId: this.agent?.id,
        model: this.request.model,
        outcome,
        attempts: this.attempts,
        bytes: this.bytes,
        ttfbMs: ttfbMs === undefined ? undefined : Math.round(ttfbMs),
        durationMs: Math.round(durationMs),
      },
      'request finished',
    );
  }
}

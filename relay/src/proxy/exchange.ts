/**
 * One consumer request's life on the relay: pick an agent, open a stream, retry on another agent
 * while nothing has reached the consumer, then copy the agent's bytes to the consumer with
 * credit-based flow control. Owns the timeout and the consumer-disconnect cancellation.
 */
import type { ServerResponse } from 'node:http';
import type { Usage } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { RelayError } from '../errors/relay-error.js';
import type { Router } from '../routing/router.js';
import type { AgentSession } from '../tunnel/agent-session.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from '../tunnel/stream.js';
import { failureToError, isRetryable } from './failures.js';
import { consumerHeaders } from './response-headers.js';

export type ExchangeDeps = {
  router: Router;
  retryAttempts: number;
  requestTimeoutMs: number;
  streamWindow: number;
};

export type ExchangeRequest = {
  requestId: string;
  model: string;
  stream: boolean;
  path: string;
  body: unknown;
  res: ServerResponse;
  log: Logger;
};

type AttemptOutcome =
  | { kind: 'committed' }
  | { kind: 'failed'; failure: StreamFailure }
  | { kind: 'aborted' }
  | { kind: 'timeout' };

/** What `run` reports once the response is in the consumer's hands (or the consumer left). */
export type ExchangeResult = 'committed' | 'aborted';

export class Exchange {
  private handle: StreamHandle | undefined;
  private agent: AgentSession | undefined;
  private settle: ((outcome: AttemptOutcome) => void) | undefined;
  private committed = false;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private unacked = 0;
  private waitingDrain = false;
  private readonly grantThreshold: number;
  private readonly startedAt = performance.now();
  private firstByteAt = 0;
  bytes = 0;
  attempts = 0;

  constructor(
    private readonly deps: ExchangeDeps,
    private readonly request: ExchangeRequest,
  ) {
    this.grantThreshold = Math.max(1, deps.streamWindow >> 2);
  }

  /**
   * Resolves once the response is committed (headers and first bytes written) or the consumer
   * left; rejects with a RelayError when every attempt failed before the first byte.
   */
  async run(): Promise<ExchangeResult> {
    const { res } = this.request;
    res.on('close', this.onConsumerClose);
    this.timer = setTimeout(this.onTimeout, this.deps.requestTimeoutMs);
    const tried = new Set<string>();
    let lastFailure: StreamFailure | undefined;
    try {
      for (let attempt = 0; attempt <= this.deps.retryAttempts; attempt++) {
        const picked = this.deps.router.pick(this.request.model, tried);
        if (picked instanceof RelayError) throw lastFailure ? failureToError(lastFailure) : picked;
        tried.add(picked.id);
        this.attempts++;
        const outcome = await this.attempt(picked);
        if (outcome.kind === 'committed' || outcome.kind === 'aborted') return outcome.kind;
        if (outcome.kind === 'timeout') {
          throw new RelayError('timeout', `request timed out after ${this.deps.requestTimeoutMs / 1000}s`);
        }
        lastFailure = outcome.failure;
        this.request.log.warn(
          { agentId: picked.id, code: lastFailure.code, attempt },
          'attempt failed before first byte',
        );
        if (!isRetryable(lastFailure)) break;
      }
      throw failureToError(lastFailure!);
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  private attempt(agent: AgentSession): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.agent = agent;
      this.handle = agent.open(
        {
          method: 'POST',
          path: this.request.path,
          headers: { 'content-type': 'application/json' },
          body: this.request.body,
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
      this.committed = true;
      this.request.res.writeHead(
        status,
        consumerHeaders(headers, { stream: this.request.stream, requestId: this.request.requestId }),
      );
      this.resolveAttempt({ kind: 'committed' });
    },
    onData: (payload) => {
      const { res } = this.request;
      if (this.firstByteAt === 0) this.firstByteAt = performance.now();
      this.bytes += payload.byteLength;
      this.unacked += payload.byteLength;
      if (!res.write(payload)) {
        if (!this.waitingDrain) {
          this.waitingDrain = true;
          res.once('drain', this.onDrain);
        }
      } else if (!this.waitingDrain && this.unacked >= this.grantThreshold) {
        this.handle?.grant(this.unacked);
        this.unacked = 0;
      }
    },
    onEnd: (_usage: Usage | undefined) => {
      this.request.res.end();
      this.finish('ok');
    },
    onFailure: (failure) => {
      if (!this.committed) return this.resolveAttempt({ kind: 'failed', failure });
      this.failAfterCommit(failureToError(failure));
    },
  };

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (this.unacked > 0) {
      this.handle?.grant(this.unacked);
      this.unacked = 0;
    }
  };

  /** After the first byte nothing is retried: an SSE error event (or a cut JSON body), then the end. */
  private failAfterCommit(error: RelayError): void {
    const { res } = this.request;
    if (this.request.stream && !res.writableEnded) {
      res.end(`data: ${JSON.stringify(error.body())}\n\n`);
    } else {
      res.destroy();
    }
    this.finish(error.code);
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.handle?.cancel('request timeout');
    if (!this.committed) return this.resolveAttempt({ kind: 'timeout' });
    this.failAfterCommit(
      new RelayError('timeout', `request timed out after ${this.deps.requestTimeoutMs / 1000}s`),
    );
  };

  private readonly onConsumerClose = (): void => {
    if (this.finished) return;
    this.handle?.cancel('consumer disconnected');
    this.resolveAttempt({ kind: 'aborted' });
    this.finish('consumer_disconnected');
  };

  private finish(outcome?: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.request.res.off('close', this.onConsumerClose);
    if (outcome) {
      const now = performance.now();
      this.request.log.info(
        {
          agentId: this.agent?.id,
          model: this.request.model,
          outcome,
          attempts: this.attempts,
          bytes: this.bytes,
          ttfbMs: this.firstByteAt ? Math.round(this.firstByteAt - this.startedAt) : undefined,
          durationMs: Math.round(now - this.startedAt),
        },
        'request finished',
      );
    }
  }
}

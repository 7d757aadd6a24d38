/**
 * What an Exchange tells the rest of the relay, off the chunk path: a failed attempt (observer,
 * log, a bench by the cooldown) and, once, how the request finished (the observer's record, read
 * by every counter, and the `request finished` log line). Each attempt's record (agent,
 * model, timing, failure) is made here too: when it starts, fails or the request ends, never per chunk.
 */
import type { Logger } from 'pino';
import type { StreamFailure } from '../tunnel/stream.js';
import type { AttemptRecord, ExchangeObserver, RequestRecord } from './observer.js';
import type { RequestOutcome } from './outcome.js';

export type ReportDeps = {
  /** The relay's logger: its level decides whether the request's own logger is made at all. */
  logger: Logger;
  observer: ExchangeObserver;
};

/** The record of an attempt on `agent` for `model`, begun `startMs` after the request started. */
export function attemptBegun(
  agent: { id: string; clientId: string | undefined },
  model: string,
  startMs: number,
): AttemptRecord {
  return {
    agentId: agent.id,
    clientId: agent.clientId,
    model,
    startMs,
    durationMs: undefined,
    code: undefined,
    reason: undefined,
    upstreamStatus: undefined,
  };
}

/**
 * Ends `attempt` `atMs` after the request started: with the agent's `failure`, or (`outcome`) the
 * request's end. The first end stays: what follows a failure is its consequence.
 */
export function attemptEnded(
  attempt: AttemptRecord | undefined,
  atMs: number,
  end: { failure: StreamFailure } | { outcome: RequestOutcome },
): void {
  if (!attempt || attempt.durationMs !== undefined) return;
  attempt.durationMs = atMs - attempt.startMs;
  if ('outcome' in end) {
    attempt.code = end.outcome === 'ok' ? undefined : end.outcome;
    return;
  }
  attempt.code = end.failure.code;
  attempt.reason = end.failure.reason;
  attempt.upstreamStatus = end.failure.status;
}

/** The Route counted `failure` (`benchedMs`: the cooldown benched the agent for it). */
export function reportAgentFailure(
  log: () => Logger,
  agentId: string,
  failure: StreamFailure,
  benchedMs: number | undefined,
): void {
  if (benchedMs === undefined) return;
  log().warn({ agentId, benchedMs, code: failure.code }, 'agent benched by cooldown');
}

/** An attempt failed before the first byte; the request may be retried elsewhere. */
export function reportAttemptFailed(
  deps: ReportDeps,
  log: () => Logger,
  record: { requestId: string; agentId: string; failure: StreamFailure; attempt: number },
): void {
  const { requestId, agentId, failure, attempt } = record;
  deps.observer.attemptFailed?.({ requestId, agentId, code: failure.code });
  log().warn({ agentId, code: failure.code, attempt }, 'attempt failed before first byte');
}

/** The request ended (successfully or not). */
export function reportFinished(deps: ReportDeps, log: () => Logger, record: RequestRecord): void {
  deps.observer.finished?.(record);
  // Without info logging, the request's own logger need not even be made.
  if (!deps.logger.isLevelEnabled('info')) return;
  log().info(
    {
      agentId: record.agentId,
      model: record.model,
      outcome: record.outcome,
      attempts: record.attempts,
      bytes: record.bytes,
      ttfbMs: record.ttfbMs === undefined ? undefined : Math.round(record.ttfbMs),
      durationMs: Math.round(record.durationMs),
    },
    'request finished',
  );
}

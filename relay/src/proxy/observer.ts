/**
 * What the rest of the relay learns about each proxied request, once, when it ends: usage
 * metering, metrics and stats subscribe here instead of reaching into the Exchange.
 * Called off the chunk path (at the end of a request), never per chunk.
 */
import type { OutcomeClass, RequestOutcome } from './outcome.js';

/** One agent tried for a request: which, for which model, when, and how it ended. */
export type AttemptRecord = {
  agentId: string;
  clientId: string | undefined;
  /** The model this agent was asked for (an alias or a fallback names another than asked). */
  model: string;
  /** When the attempt began, ms after the request started. */
  startMs: number;
  /** How long it ran until it failed or the request ended, ms (undefined while it runs). */
  durationMs: number | undefined;
  /**
   * Undefined: it served. Else the agent's failure code (`upstream_unavailable`, `agent_gone`…),
   * or, for a last attempt that did not fail itself, the request's outcome (`timeout`…).
   */
  code: string | undefined;
  /** The bridge's reason code (a Cloudflare check, a closed tab…), when the agent gave one. */
  reason: string | undefined;
  /** The bridge's HTTP status, when the agent passed one on. */
  upstreamStatus: number | undefined;
};

/** A request's token usage, as the relay worked it out (usage/metered-request.ts). */
export type RequestUsage = {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** True when the counts are the relay's estimate. */
  estimated: boolean;
};

/** The usage of a request that got no answer, or was not metered: nothing. */
export const NO_USAGE: RequestUsage = Object.freeze({
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  estimated: false,
});

export type RequestRecord = {
  requestId: string;
  keyId: string;
  /** The bridge client that served (or last tried) the request. */
  clientId: string | undefined;
  agentId: string | undefined;
  /** The model that served, else the last one tried, else the one asked: usage counts under it. */
  model: string;
  /** The model the consumer asked for. */
  modelAsked: string;
  /** The model whose bridge's bytes reached the consumer; undefined when none did. */
  modelServed: string | undefined;
  /** Every agent tried, in order (empty when none was found). */
  tried: readonly AttemptRecord[];
  stream: boolean;
  /** `ok`, `consumer_disconnected`, or the RelayError code it failed with. */
  outcome: RequestOutcome;
  /** What `outcome` counts as (classified once, by the Exchange: see outcome.ts). */
  result: OutcomeClass;
  /** HTTP status the consumer got (0 when it left before any answer). */
  status: number;
  attempts: number;
  /** Payload bytes relayed to the consumer. */
  bytes: number;
  /** Tokens it counts for (nothing for a request that got no 2xx answer, or was not metered). */
  usage: RequestUsage;
  ttfbMs: number | undefined;
  durationMs: number;
  startedAt: Date;
};

export interface ExchangeObserver {
  /** An attempt failed before the first byte and the request may be retried elsewhere. */
  attemptFailed?(info: { requestId: string; agentId: string; code: string }): void;
  /** The request ended (successfully or not). */
  finished?(record: RequestRecord): void;
}

/** Fans one event out to several observers. */
export function combineObservers(observers: ExchangeObserver[]): ExchangeObserver {
  return {
    attemptFailed: (info) => {
      for (const o of observers) o.attemptFailed?.(info);
    },
    finished: (record) => {
      for (const o of observers) o.finished?.(record);
    },
  };
}

/**
 * What the rest of the relay learns about each proxied request, once, when it ends: usage
 * metering, metrics and stats subscribe here instead of reaching into the Exchange.
 * Called off the chunk path (at the end of a request), never per chunk.
 */

export type RequestRecord = {
  requestId: string;
  keyId: string;
  /** The bridge client that served (or last tried) the request. */
  clientId: string | undefined;
  agentId: string | undefined;
  model: string;
  stream: boolean;
  /** `ok`, `consumer_disconnected`, or the RelayError code it failed with. */
  outcome: string;
  /** HTTP status the consumer got (0 when it left before any answer). */
  status: number;
  attempts: number;
  /** Payload bytes relayed to the consumer. */
  bytes: number;
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

/**
 * Usage metering of consumer requests: `begin` when a request is about to be proxied (gives the
 * Exchange its ResponseTap for streams), `finish` from the ExchangeObserver when it ended. The
 * usage of each request is worked out once, so the `include_usage` chunk a consumer got and the
 * recorded usage are the same numbers.
 */
import type { RequestRecord } from '../proxy/observer.js';
import type { OutcomeClass } from '../proxy/outcome.js';
import { MeteredRequest, type MeteredRequestInit, type MeteredUsage } from './metered-request.js';
import type { UsageEvent, UsageRecorder } from './recorder.js';

const NOTHING: MeteredUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, estimated: false };

/** The usage store keeps three columns; a consumer's own error is not a success either. */
const USAGE_OUTCOME: Record<OutcomeClass, UsageEvent['outcome']> = {
  ok: 'succeeded',
  failed: 'failed',
  consumer_error: 'failed',
  cancelled: 'cancelled',
};

export class UsageMeter {
  private readonly live = new Map<string, MeteredRequest>();

  constructor(private readonly recorder: UsageRecorder) {}

  /** Requests begun and not yet finished. */
  get inFlight(): number {
    return this.live.size;
  }

  /** Starts metering; returns the tap to hand to the Exchange. */
  begin(init: MeteredRequestInit): MeteredRequest {
    const metered = new MeteredRequest(init);
    this.live.set(init.requestId, metered);
    return metered;
  }

  /** Forgets a request that ended before it was proxied (nothing is recorded for it). */
  discard(requestId: string): void {
    this.live.delete(requestId);
  }

  /**
   * Records a finished request and returns its usage. Tokens count only for a request that got
   * an answer (a 2xx head): what a consumer received, also when it was cut short.
   */
  finish(record: RequestRecord): MeteredUsage {
    const metered = this.live.get(record.requestId);
    this.live.delete(record.requestId);
    const answered = record.status >= 200 && record.status < 300;
    const usage = metered ? metered.usage(answered) : NOTHING;
    this.recorder.add({
      startedAt: record.startedAt,
      keyId: record.keyId,
      clientId: record.clientId,
      model: record.model,
      outcome: USAGE_OUTCOME[record.result],
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      estimated: usage.estimated,
      durationMs: record.durationMs,
      ttfbMs: record.ttfbMs,
    });
    return usage;
  }
}

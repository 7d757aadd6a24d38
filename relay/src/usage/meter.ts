/**
 * Usage metering of consumer requests: `begin` when a request is about to be proxied (the handle
 * is the Exchange's ResponseTap and meter), `finished` as an ExchangeObserver when it ended. The
 * usage of each request is worked out once, by its handle, so the `include_usage` chunk a
 * consumer got and the recorded usage are the same numbers.
 */

import type { OutcomeClass } from '../metrics/figures.js';
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import { MeteredRequest, type MeteredRequestInit } from './metered-request.js';
import type { UsageEvent, UsageRecorder } from './recorder.js';

/** The usage store keeps three columns; a consumer's own error is not a success either. */
const USAGE_OUTCOME: Record<OutcomeClass, UsageEvent['outcome']> = {
  ok: 'succeeded',
  failed: 'failed',
  consumer_error: 'failed',
  cancelled: 'cancelled',
};

export class UsageMeter implements ExchangeObserver {
  constructor(private readonly recorder: UsageRecorder) {}

  /** Starts metering a request: the handle is its tap, and the Exchange's meter. */
  begin(init: MeteredRequestInit): MeteredRequest {
    return new MeteredRequest(init);
  }

  /** Records a finished request's usage, as the Exchange worked it out. */
  finished(record: RequestRecord): void {
    const { usage } = record;
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
  }
}

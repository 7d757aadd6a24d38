/**
 * The client's record (its health and counters) as an ExchangeObserver: it reads the finished
 * request like every other counter does. Only what the bridge did counts: a consumer's own error
 * (a 4xx) or a consumer that left says nothing about the client's health.
 */
import type { ExchangeObserver } from '../proxy/observer.js';
import type { Store } from '../store/store.js';

export function clientOutcomes(store: Pick<Store, 'recordClientOutcome'>): ExchangeObserver {
  return {
    finished(record) {
      if (record.clientId === undefined) return;
      if (record.result !== 'ok' && record.result !== 'failed') return;
      // Buffered in memory by the store; never slows the response.
      void store.recordClientOutcome(record.clientId, {
        ok: record.result === 'ok',
        durationMs: record.durationMs,
      });
    },
  };
}

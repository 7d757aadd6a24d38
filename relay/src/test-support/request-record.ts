/**
 * For tests: a finished request as the Exchange's observer hands it on. Plain defaults (an `ok`
 * streamed chat of key_a / cl_a / agt_a, started at T0); `over` replaces fields, and `result` is
 * always classified from the final `outcome`, as the Exchange does.
 */
import type { RequestRecord } from '../proxy/observer.js';
import { classifyOutcome } from '../proxy/outcome.js';

/** The records' default start: 2026-01-01 12:00 UTC, epoch ms. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function requestRecord(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: 'req_1',
    keyId: 'key_a',
    clientId: 'cl_a',
    agentId: 'agt_a',
    model: 'gpt-5',
    modelAsked: 'gpt-5',
    modelServed: 'gpt-5',
    tried: [],
    stream: true,
    outcome: 'ok',
    status: 200,
    attempts: 1,
    bytes: 100,
    ttfbMs: 20,
    durationMs: 100,
    startedAt: new Date(T0),
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, estimated: false },
    ...over,
    result: classifyOutcome(over.outcome ?? 'ok'),
  };
}

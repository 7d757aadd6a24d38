/** The request log's ring and filters, fed records as the Exchange's observer would. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { RequestRecord } from '../proxy/observer.js';
import { requestRecord, T0 } from '../test-support/request-record.js';
import { requestEntry } from './request-entry.js';
import { RequestLog } from './request-log.js';

function record(n: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return requestRecord({
    requestId: `req_${n}`,
    tried: [
      {
        agentId: 'agt_a',
        clientId: 'cl_a',
        model: 'gpt-5',
        startMs: 1.4,
        durationMs: 20.6,
        code: undefined,
        reason: undefined,
        upstreamStatus: undefined,
      },
    ],
    ttfbMs: 10.2,
    durationMs: 21.7,
    startedAt: new Date(T0 + n * 1000),
    ...over,
  });
}

describe('RequestLog', () => {
  it('keeps the newest N of a flood, newest first, each entry within its schema', () => {
    const log = new RequestLog(50, 'rly_1');
    for (let n = 0; n < 20_000; n++) log.finished(record(n));
    expect(log.size).toBe(50);
    const all = log.query({ limit: 1000 });
    expect(all.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => `req_${19_999 - i}`));
    expect(all[0]).toMatchObject({ relay: 'rly_1', ttfb_ms: 10, duration_ms: 22, error_code: null });
    expect(all[0]!.attempts[0]).toMatchObject({ started_ms: 1, duration_ms: 21, code: null });
    for (const entry of all) expect(requestEntry.safeParse(entry).success).toBe(true);
  });

  it('cuts a hostile model name and drops its control characters', () => {
    const log = new RequestLog(5, 'rly_1');
    const model = `\u001b[31mred\u202e${'é'.repeat(10_000)}`;
    log.finished(
      record(1, { modelAsked: model, modelServed: undefined, outcome: 'model_not_found', status: 404 }),
    );
    const [entry] = log.query({ limit: 1 });
    expect(entry!.model.startsWith('red')).toBe(true);
    expect(entry!.model.length).toBeLessThanOrEqual(256);
    // The consumer asked for a model nobody serves: its own error, not a failure.
    expect(entry).toMatchObject({
      model_served: null,
      error_code: 'model_not_found',
      result: 'consumer_error',
    });
    expect(requestEntry.safeParse(entry).success).toBe(true);
  });

  it('keeps an entry within its schema whatever a remote agent’s advert or forwarded failure held', () => {
    const log = new RequestLog(5, 'rly_1');
    const huge = 'a'.repeat(100_000);
    const odd = 42 as unknown as string;
    log.finished(
      record(1, {
        agentId: huge,
        clientId: odd,
        // A failure forwarded by another relay: its status is any integer.
        tried: [{ ...record(0).tried[0]!, agentId: huge, clientId: odd, upstreamStatus: 1e9, code: huge }],
      }),
    );
    const [entry] = log.query({ limit: 1 });
    expect(requestEntry.safeParse(entry).success).toBe(true);
    expect(entry).toMatchObject({ client_id: '42', attempts: [{ client_id: '42', upstream_status: null }] });
  });

  it('filters by key, client (any attempt), agent, model, status range, outcome, time and id', () => {
    const log = new RequestLog(100, 'rly_1');
    log.finished(record(1));
    log.finished(
      record(2, { keyId: 'key_b', status: 503, outcome: 'upstream_unavailable', modelServed: undefined }),
    );
    log.finished(
      record(3, {
        modelAsked: 'fast',
        model: 'gpt-5',
        tried: [
          { ...record(0).tried[0]!, agentId: 'agt_x', clientId: 'cl_x', code: 'agent_gone', durationMs: 3 },
          record(0).tried[0]!,
        ],
      }),
    );
    const ids = (filter: Parameters<RequestLog['query']>[0]) => log.query(filter).map((e) => e.id);
    expect(ids({ limit: 10, key: 'key_b' })).toEqual(['req_2']);
    expect(ids({ limit: 10, client: 'cl_x' })).toEqual(['req_3']);
    expect(ids({ limit: 10, agent: 'agt_x' })).toEqual(['req_3']);
    expect(ids({ limit: 10, model: 'fast' })).toEqual(['req_3']);
    // req_3 asked for 'fast' and was served by 'gpt-5'.
    expect(ids({ limit: 10, model: 'gpt-5' })).toEqual(['req_3', 'req_2', 'req_1']);
    expect(ids({ limit: 10, statusMin: 500, statusMax: 599 })).toEqual(['req_2']);
    expect(ids({ limit: 10, outcome: 'ok' })).toEqual(['req_3', 'req_1']);
    expect(ids({ limit: 10, sinceMs: T0 + 2000 })).toEqual(['req_3', 'req_2']);
    expect(ids({ limit: 10, untilMs: T0 + 2000 })).toEqual(['req_1']);
    expect(ids({ limit: 10, id: 'req_2' })).toEqual(['req_2']);
    expect(ids({ limit: 2 })).toEqual(['req_3', 'req_2']);
  });

  it('keeps nothing with size 0', () => {
    const log = new RequestLog(0, 'rly_1');
    log.finished(record(1));
    expect(log.size).toBe(0);
    expect(log.query({ limit: 10 })).toEqual([]);
  });
});

describe('request log settings', () => {
  it('default to 1 000 entries in memory, not persisted; persisted for the hours given', () => {
    expect(loadConfig({})).toMatchObject({ requestLogSize: 1000, requestLogRetentionMs: undefined });
    expect(
      loadConfig({ REQUEST_LOG_SIZE: '0', REQUEST_LOG_PERSIST: 'on', REQUEST_LOG_RETENTION_HOURS: '1.5' }),
    ).toMatchObject({ requestLogSize: 0, requestLogRetentionMs: 5_400_000 });
  });

  it('lists every bad value at once', () => {
    let error: unknown;
    try {
      loadConfig({
        REQUEST_LOG_SIZE: '-1',
        REQUEST_LOG_PERSIST: 'sometimes',
        REQUEST_LOG_RETENTION_HOURS: '0',
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['REQUEST_LOG_SIZE', 'REQUEST_LOG_PERSIST', 'REQUEST_LOG_RETENTION_HOURS'])
      expect(problems).toContain(name);
  });
});

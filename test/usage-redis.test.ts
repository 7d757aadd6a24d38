/**
 * Usage on both UsageStores (one contract), Redis' retry guard, and usage recorded by two relays
 * sharing Redis adding up in either relay's usage API.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRedisUsage } from '../relay/src/usage/redis-usage.js';
import { openSqliteUsage } from '../relay/src/usage/sqlite-usage.js';
import { emptyCounters, type UsageRow, type UsageStore } from '../relay/src/usage/usage-store.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';
import { REDIS_TEST_URL, redisAt, redisAvailable, redisBackend } from './support/store-backends.js';

// These suites need the Redis at REDIS_TEST_URL (`.ci/run` provides it).
if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

const row = (
  hour: string,
  keyId: string,
  model: string,
  requests: number,
  extra: Partial<UsageRow> = {},
) => ({
  hour,
  keyId,
  clientId: 'cl_1',
  model,
  ...emptyCounters(),
  requests,
  succeeded: requests,
  promptTokens: 10 * requests,
  completionTokens: 20 * requests,
  ...extra,
});

const backends: Array<[string, () => Promise<UsageStore>]> = [
  ['sqlite', async () => openSqliteUsage(mkdtempSync(join(tmpdir(), 'arena-usage-')))],
  [
    'redis',
    async () => {
      const backend = redisBackend();
      track({ close: () => backend.dispose() });
      return openRedisUsage({ redis: redisAt(REDIS_TEST_URL), prefix: backend.prefix });
    },
  ],
];

describe.each(backends)('UsageStore contract: %s', (_name, open) => {
  it('adds counters per hour × key × client × model and filters by each, hours as [from, to)', async () => {
    const store = track(await open());
    await store.add([row('2026-03-01T10', 'k1', 'gpt-5', 2), row('2026-03-01T11', 'k1', 'gpt-5', 1)]);
    await store.add([
      row('2026-03-01T10', 'k1', 'gpt-5', 3, { ttfbMs: 40, ttfbCount: 3, durationMs: 900 }),
      row('2026-03-02T00', 'k2', 'odd|model "x"\t', 1, { clientId: '' }),
    ]);
    const all = await store.query({});
    expect(all).toHaveLength(3);
    expect(all.find((r) => r.hour === '2026-03-01T10')).toEqual(
      row('2026-03-01T10', 'k1', 'gpt-5', 5, { ttfbMs: 40, ttfbCount: 3, durationMs: 900 }),
    );
    expect(await store.query({ keyId: 'k2' })).toEqual([
      row('2026-03-02T00', 'k2', 'odd|model "x"\t', 1, { clientId: '' }),
    ]);
    expect(await store.query({ clientId: '' })).toHaveLength(1);
    expect(await store.query({ model: 'gpt-5', clientId: 'cl_1' })).toHaveLength(2);
    const hours = async (fromHour?: string, toHour?: string) =>
      (await store.query({ fromHour, toHour })).map((r) => r.hour).sort();
    expect(await hours('2026-03-01T11', '2026-03-02T00')).toEqual(['2026-03-01T11']);
    expect(await hours('2026-03-01T11')).toEqual(['2026-03-01T11', '2026-03-02T00']);
    expect(await hours(undefined, '2026-03-01T11')).toEqual(['2026-03-01T10']);
  });
});

describe('Redis usage', () => {
  it('a batch retried after a lost reply (the same rows) counts once', async () => {
    const store = track(await backends[1]![1]());
    const batch = [row('2026-03-01T10', 'k1', 'gpt-5', 2)];
    await store.add(batch);
    await store.add(batch);
    await store.add([row('2026-03-01T10', 'k1', 'gpt-5', 2)]);
    expect((await store.query({}))[0]).toMatchObject({ requests: 4, promptTokens: 40 });
  });

  it('two relays on one prefix: usage recorded on each adds up in either usage API', async () => {
    const backend = redisBackend();
    track({ close: () => backend.dispose() });
    const options = { redisUrl: REDIS_TEST_URL, redisPrefix: backend.prefix };
    const a = await startTestRelay(options);
    const b = await startTestRelay(options);
    const bridge = track(await startFakeBridge());
    const { token } = await a.createClient('shared');
    await startTestAgent(a.url, token, bridge.url);
    await startTestAgent(b.url, token, bridge.url);
    const { id, key } = await a.createKey();
    const ask = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-5',
          stream: true,
          messages: [{ role: 'user', content: 'Hello' }],
        }),
      }).then((res) => res.text());
    for (const url of [a.url, a.url, b.url]) await ask(url);
    // Each relay's usage API writes that relay's buffer first: read b, then a.
    await b.admin('GET', '/api/usage');
    const { json } = await a.admin('GET', `/api/usage?key=${id}&group_by=key`);
    const completion = Math.floor([...DEFAULT_CHUNKS.join('')].length / 4);
    expect(json.groups).toEqual([
      expect.objectContaining({
        key_id: id,
        requests: 3,
        prompt_tokens: 3,
        completion_tokens: 3 * completion,
      }),
    ]);
  });
});

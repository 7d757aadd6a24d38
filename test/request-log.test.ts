/**
 * The request log, end to end: real relays, real agents, the fake bridge. A request shows what
 * happened to it attempt by attempt (`GET /api/requests`, `/api/requests/{id}`), filters answer
 * what they say, any relay of a cluster finds a request by its `x-request-id`, the prompt and the
 * answer are nowhere in it, and a flood of hostile requests leaves it at its N entries.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRIDGE_REASON_FIXES, type BridgeReasonCode, stripControls } from '@arena-relay/shared';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startPool } from './support/pool.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';
import { startStack } from './support/stack.js';
import { REDIS_TEST_URL } from './support/store-backends.js';

type Attempt = { agent_id: string; client_id: string | null; code: string | null; reason: string | null };
type Entry = {
  id: string;
  relay: string;
  key_id: string;
  client_id: string | null;
  agent_id: string | null;
  model: string;
  model_served: string | null;
  status: number;
  outcome: string;
  error_code: string | null;
  attempts: Attempt[];
  ttfb_ms: number | null;
  duration_ms: number;
  bytes: number;
};

/** `GET /api/requests` with `query`; the entries, and the raw body (to search for text). */
async function requests(relay: TestRelay, query = '') {
  const res = await fetch(`${relay.url}/api/requests${query}`, {
    headers: { authorization: `Bearer ${relay.adminToken}` },
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: JSON.parse(text) as { requests: Entry[]; unreachable: unknown[] },
  };
}

const PROMPT_MARKER = 'PROMPT-MARKER-7f3a9c';
const ANSWER_MARKER = 'ANSWER-MARKER-c1e8b2';

describe('request log', () => {
  it('shows a streamed request that served, by its x-request-id, and never its prompt or answer', async () => {
    const { relay, openai, key, agent } = await startStack({
      bridge: { chunks: ['Hello ', ANSWER_MARKER, ' bye'] },
    });
    const { data: stream, response } = await openai.chat.completions
      .create({
        model: 'gpt-5',
        stream: true,
        messages: [{ role: 'user', content: `say hi ${PROMPT_MARKER}` }],
      })
      .withResponse();
    let answer = '';
    for await (const chunk of stream) answer += chunk.choices[0]?.delta.content ?? '';
    // The marker did go through: its absence below means something.
    expect(answer).toContain(ANSWER_MARKER);
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^req_/);

    const listed = await requests(relay);
    expect(listed.status).toBe(200);
    expect(listed.json.requests).toHaveLength(1);
    const entry = listed.json.requests[0]!;
    expect(entry).toMatchObject({
      id: requestId,
      relay: relay.relayId,
      key_id: key.id,
      agent_id: agent.sessionId,
      model: 'gpt-5',
      model_served: 'gpt-5',
      stream: true,
      status: 200,
      outcome: 'ok',
      error_code: null,
      result: 'ok',
    });
    expect(entry.client_id).toMatch(/^cl/);
    expect(entry.attempts).toEqual([
      // Served: no code, no reason, so no fix.
      expect.objectContaining({
        agent_id: agent.sessionId,
        client_id: entry.client_id,
        code: null,
        fix: null,
      }),
    ]);
    expect(entry.ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(entry.duration_ms).toBeGreaterThanOrEqual(entry.ttfb_ms!);
    expect(entry.bytes).toBeGreaterThan(ANSWER_MARKER.length);

    const one = await relay.admin('GET', `/api/requests/${requestId}`);
    expect(one).toMatchObject({ status: 200, json: { id: requestId } });
    const byQuery = await requests(relay, `?id=${requestId}`);
    expect(byQuery.json.requests.map((e) => e.id)).toEqual([requestId]);
    const missing = await relay.admin('GET', '/api/requests/req_nobody');
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });

    for (const text of [listed.text, byQuery.text, JSON.stringify(one.json)]) {
      expect(text).not.toContain(PROMPT_MARKER);
      expect(text).not.toContain(ANSWER_MARKER);
      for (const piece of DEFAULT_CHUNKS) if (piece.trim().length > 3) expect(text).not.toContain(piece);
    }
  });

  it('a request that failed over shows both attempts, the first with its agent’s failure', async () => {
    const pool = await startPool(2, { relay: { loadBalancing: 'round_robin', retryAttempts: 3 } });
    const [refusing, serving] = pool.members as [(typeof pool.members)[0], (typeof pool.members)[0]];
    refusing.bridge.scenario = 'tab-closed';
    // Round robin: within two requests one starts on the refusing agent.
    let failedOver: Entry | undefined;
    for (let i = 0; i < 2 && !failedOver; i++) {
      const res = await pool.chat({ stream: true });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-request-id')!;
      await res.text();
      const { json } = await pool.relay.admin('GET', `/api/requests/${id}`);
      if (json.attempts.length === 2) failedOver = json;
    }
    expect(failedOver).toBeDefined();
    expect(failedOver).toMatchObject({
      outcome: 'ok',
      status: 200,
      client_id: serving.clientId,
      agent_id: serving.agent.sessionId,
      model_served: 'gpt-5',
    });
    const [first, second] = failedOver!.attempts;
    expect(first).toMatchObject({
      agent_id: refusing.agent.sessionId,
      client_id: refusing.clientId,
      code: 'upstream_unavailable',
    });
    expect(second).toMatchObject({ agent_id: serving.agent.sessionId, code: null });
    expect((second as unknown as { started_ms: number }).started_ms).toBeGreaterThanOrEqual(
      (first as unknown as { started_ms: number }).started_ms,
    );
    // Filtering by the refusing client finds the request it only tried.
    const { json } = await requests(pool.relay, `?client=${refusing.clientId}`);
    expect(json.requests.map((e) => e.id)).toContain(failedOver!.id);
  });

  it('a request that failed everywhere shows its outcome, error code and every attempt', async () => {
    const pool = await startPool(2, { relay: { retryAttempts: 3 } });
    for (const m of pool.members) m.bridge.scenario = 'tab-closed';
    const res = await pool.chat();
    expect(res.status).toBe(503);
    const id = res.headers.get('x-request-id')!;
    const { json } = await pool.relay.admin('GET', `/api/requests/${id}`);
    expect(json).toMatchObject({
      status: 503,
      outcome: 'upstream_unavailable',
      error_code: 'upstream_unavailable',
      result: 'failed',
      model_served: null,
    });
    expect(new Set(json.attempts.map((a: Attempt) => a.agent_id))).toEqual(
      new Set(pool.members.map((m) => m.agent.sessionId)),
    );
    for (const attempt of json.attempts) {
      expect(attempt.code).toBe('upstream_unavailable');
      // The bridge named why: the API adds its owner's fix, from the one table of them.
      expect(attempt.reason).not.toBeNull();
      expect(attempt.fix).toBe(BRIDGE_REASON_FIXES[attempt.reason as BridgeReasonCode]);
    }
  });

  it('filters by key, model, status, outcome and time, honours the limit, and lists bad filters in a 400', async () => {
    const pool = await startPool(1);
    const other = await pool.relay.createKey('other');
    const started = new Date().toISOString();
    for (let i = 0; i < 3; i++) await (await pool.chat()).text();
    // A model nobody serves: refused in the Exchange, logged with no attempt.
    const unknown = await pool.chat({ model: 'no-such-model' });
    expect(unknown.status).toBe(404);
    const otherRes = await fetch(`${pool.relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(otherRes.status).toBe(200);
    await otherRes.text();

    const ids = async (query: string) => (await requests(pool.relay, query)).json.requests;
    expect(await ids('')).toHaveLength(5);
    expect((await ids(`?key=${other.id}`)).map((e) => e.key_id)).toEqual([other.id]);
    const notFound = await ids('?status=4xx');
    expect(notFound).toHaveLength(1);
    expect(notFound[0]).toMatchObject({ model: 'no-such-model', outcome: 'model_not_found', attempts: [] });
    expect(await ids('?status=404')).toHaveLength(1);
    expect(await ids('?outcome=ok')).toHaveLength(4);
    expect(await ids('?model=no-such-model')).toHaveLength(1);
    expect(await ids('?limit=2')).toHaveLength(2);
    expect(await ids(`?since=${encodeURIComponent(started)}`)).toHaveLength(5);
    expect(await ids(`?until=${encodeURIComponent(started)}`)).toHaveLength(0);
    expect(await ids('?since=2020-01-01&until=2020-01-02')).toHaveLength(0);

    const bad = await requests(pool.relay, '?status=abc&limit=0&since=yesterday&colour=red');
    expect(bad.status).toBe(400);
    const message = (bad.json as unknown as { error: { code: string; message: string } }).error;
    expect(message.code).toBe('invalid_request');
    for (const name of ['status', 'limit', 'since', 'colour']) expect(message.message).toContain(name);
    const inverted = await requests(pool.relay, '?since=2026-02-01&until=2026-01-01');
    expect(inverted.status).toBe(400);
    expect(await pool.relay.admin('GET', `/api/requests/${'x'.repeat(300)}`)).toMatchObject({ status: 400 });
  });

  it('any relay of a cluster finds a request by its x-request-id, wherever it came in', async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridge = track(await startFakeBridge());
    const { token } = await a.createClient();
    const key = await a.createKey();
    await startTestAgent(b.url, token, bridge.url);
    await expect.poll(() => a.cluster!.remoteAgents().length).toBe(1);
    // In on relay a, served by the agent on relay b.
    const openai = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const id = response.headers.get('x-request-id')!;

    const found = await b.admin('GET', `/api/requests/${id}`);
    expect(found).toMatchObject({
      status: 200,
      json: { id, relay: a.relayId, outcome: 'ok', key_id: key.id },
    });
    const listed = await requests(b, `?key=${key.id}`);
    expect(listed.json).toMatchObject({ requests: [{ id, relay: a.relayId }], unreachable: [] });
    expect((await requests(b, `?id=${id}`)).json.requests).toHaveLength(1);
  });

  it('a member answering with anything but a request log is listed unreachable; unknown fields are dropped', async () => {
    const { prefix, relays } = await startTestCluster(1);
    const [a] = relays as [TestRelay];
    const evil = 'rly_evil';
    const pub = new Redis(REDIS_TEST_URL);
    const sub = new Redis(REDIS_TEST_URL);
    const beat = () => pub.zadd(`${prefix}cluster:relays`, Date.now(), evil);
    await beat();
    const timer = setInterval(() => void beat().catch(() => undefined), 100);
    track({
      close() {
        clearInterval(timer);
        pub.disconnect();
        sub.disconnect();
      },
    });
    const planted = {
      id: 'req_planted',
      relay: evil,
      at: new Date().toISOString(),
      key_id: 'key_x',
      client_id: null,
      agent_id: null,
      model: 'gpt-5',
      model_served: null,
      stream: false,
      status: 503,
      outcome: 'upstream_unavailable',
      error_code: 'upstream_unavailable',
      attempts: [],
      ttfb_ms: null,
      duration_ms: 1,
      bytes: 0,
      prompt: PROMPT_MARKER,
    };
    sub.on('message', (_channel, text) => {
      const ask = JSON.parse(text) as { id: string; from: string; kind: string };
      // A list answers with an entry carrying a field no entry has; one id with an oversized entry.
      const value = ask.kind === 'requests' ? [planted] : [{ ...planted, model: 'm'.repeat(100_000) }];
      void pub.publish(
        `${prefix}cluster:query:${ask.from}`,
        JSON.stringify({ t: 'answer', id: ask.id, from: evil, ok: true, value }),
      );
    });
    await sub.subscribe(`${prefix}cluster:query:${evil}`);
    await expect.poll(() => a.cluster!.membership.relays()).toContain(evil);

    const listed = await requests(a);
    expect(listed.json).toMatchObject({ requests: [{ id: 'req_planted', relay: evil }], unreachable: [] });
    expect(listed.text).not.toContain(PROMPT_MARKER);
    const one = await a.admin('GET', '/api/requests/req_planted');
    expect(one.status).toBe(404);
    expect(one.json.error.message).toContain(evil);
  });

  it('with REQUEST_LOG_PERSIST the log outlives a restart, and requests.db holds no prompt or answer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arena-requests-'));
    const persisted = { dataDir, requestLogRetentionMs: 3_600_000 };
    const { relay, openai } = await startStack({
      relay: persisted,
      bridge: { chunks: ['Hello ', ANSWER_MARKER] },
    });
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-5', messages: [{ role: 'user', content: PROMPT_MARKER }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain(ANSWER_MARKER);
    const id = response.headers.get('x-request-id')!;
    await relay.close();

    const successor = await startTestRelay(persisted);
    const found = await successor.admin('GET', `/api/requests/${id}`);
    expect(found).toMatchObject({ status: 200, json: { id, relay: relay.relayId, outcome: 'ok' } });
    await successor.close();
    const files = readdirSync(dataDir).filter((f) => f.startsWith('requests.db'));
    // The entry is in the file: the markers' absence below means something.
    expect(files.some((file) => readFileSync(join(dataDir, file)).includes(id))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(PROMPT_MARKER)).toBe(false);
      expect(bytes.includes(ANSWER_MARKER)).toBe(false);
    }
  });

  it('a flood of hostile requests keeps the log at its N entries, each bounded', {
    timeout: 60_000,
  }, async () => {
    const pool = await startPool(1, { relay: { requestLogSize: 50 } });
    // Model names no bridge serves: long, non-ASCII, with terminal escapes and bidi controls.
    const hostile = (i: number) => `\u001b]0;pwn\u0007\u202e${'模型'.repeat(100)}${i}`;
    const total = 2000;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        const i = sent++;
        const res = await pool.chat({ model: i % 20 === 0 ? 'gpt-5' : hostile(i) });
        await res.arrayBuffer();
        expect([200, 404]).toContain(res.status);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const { json, text } = await requests(pool.relay, '?limit=1000');
    expect(json.requests).toHaveLength(50);
    const hostileEntries = json.requests.filter((e) => e.model !== 'gpt-5');
    expect(hostileEntries.length).toBeGreaterThan(0);
    // The terminal escape is gone whole; what is left is the name's text.
    for (const entry of hostileEntries) expect(entry.model.startsWith('模型')).toBe(true);
    for (const entry of json.requests) {
      expect(entry.model.length).toBeLessThanOrEqual(256);
      expect(entry.model).toBe(stripControls(entry.model));
      expect(entry.model).not.toContain('\u202e');
    }
    // 50 entries of a few hundred bytes each, whatever was thrown at the relay.
    expect(Buffer.byteLength(text)).toBeLessThan(50 * 2048);
    // Still serving.
    expect((await pool.chat()).status).toBe(200);
  });
});

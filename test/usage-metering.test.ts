/**
 * Usage metering and the usage API on an embedded relay: recorded tokens equal what consumers
 * received (the fake bridge's known texts), `stream_options.include_usage`, grouping, prices,
 * the CSV export and query validation.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, type FakeBridgeOptions, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './support/relay.js';

const TEXT = DEFAULT_CHUNKS.join('');
/** The relay's (and LMArenaBridge's) estimate: ⌊code points / 4⌋. */
const tokens = (text: string) => Math.floor([...text].length / 4);
const PROMPT = 'Hello there, how are you today?';

async function stack(options: { relay?: TestRelayOptions; bridge?: FakeBridgeOptions } = {}) {
  const bridge = track(await startFakeBridge(options.bridge));
  const relay = await startTestRelay(options.relay);
  const client = await relay.createClient('bridge one');
  await startTestAgent(relay.url, client.token, bridge.url, { maxConcurrency: 16 });
  const key = await relay.createKey('app');
  return { bridge, relay, client, key };
}

function ask(relay: TestRelay, key: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: PROMPT }], ...body }),
  });
}

type Chunk = { id: string; choices: Array<{ delta: { content?: string } }>; usage?: Record<string, number> };

/** The events of an SSE body, `[DONE]` left out. */
function events(sse: string): Chunk[] {
  return sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)) as Chunk);
}

const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** An RFC 4180 parser: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += ch;
    }
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

describe('usage metering', () => {
  it('records exactly the tokens of the texts consumers received, streamed or not', async () => {
    const { relay, key } = await stack({ bridge: { splitEvents: true } });
    let received = 0;
    for (let i = 0; i < 3; i++) {
      const res = await ask(relay, key.key, { stream: true });
      const text = textOf(events(await res.text()));
      expect(text).toBe(TEXT);
      received += tokens(text);
    }
    for (let i = 0; i < 2; i++) {
      const body = (await (await ask(relay, key.key)).json()) as {
        choices: Array<{ message: { content: string } }>;
        usage: { completion_tokens: number };
      };
      expect(body.usage.completion_tokens).toBe(tokens(body.choices[0]!.message.content));
      received += body.usage.completion_tokens;
    }
    const { status, json } = await relay.admin('GET', `/api/usage?key=${key.id}&group_by=`);
    expect(status).toBe(200);
    expect(json.totals).toMatchObject({
      requests: 5,
      succeeded: 5,
      failed: 0,
      cancelled: 0,
      prompt_tokens: 5 * tokens(PROMPT),
      completion_tokens: received,
      total_tokens: 5 * tokens(PROMPT) + received,
      estimated_requests: 5,
      cost: 0,
    });
    expect(received).toBe(5 * tokens(TEXT));
    expect(json.totals.avg_latency_ms).toBeGreaterThanOrEqual(0);
    expect(json.totals.avg_ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(json.groups).toHaveLength(1);
  });

  it('include_usage: the openai client gets a final chunk with `choices: []` and the recorded usage', async () => {
    const { relay, key } = await stack();
    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-5',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: PROMPT }],
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const usage = {
      prompt_tokens: tokens(PROMPT),
      completion_tokens: tokens(TEXT),
      total_tokens: tokens(PROMPT) + tokens(TEXT),
    };
    expect(last.usage).toEqual(usage);
    expect(last.id).toBe(chunks[0]!.id);
    expect(last.model).toBe('gpt-5');
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined || c.usage === null)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(TEXT);

    const { json } = await relay.admin('GET', `/api/usage?key=${key.id}`);
    expect(json.totals).toMatchObject({ ...usage, requests: 1 });
  });

  it('include_usage: the usage event sits just before `data: [DONE]`, the bridge bytes otherwise untouched', async () => {
    const { relay, key, bridge } = await stack({ bridge: { splitEvents: true } });
    const body = JSON.stringify({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: PROMPT }],
    });
    const direct = await (await fetch(`${bridge.url}/v1/chat/completions`, { method: 'POST', body })).text();
    const sse = await (
      await ask(relay, key.key, { stream: true, stream_options: { include_usage: true } })
    ).text();
    const usageEvent = /data: (\{[^\n]*"choices":\[\][^\n]*\})\n\ndata: \[DONE\]\n\n$/.exec(sse);
    expect(usageEvent).not.toBeNull();
    const mask = (s: string) => s.replace(/chatcmpl-[0-9a-f-]{36}/g, 'ID').replace(/"created": \d+/g, '');
    expect(mask(sse.replace(`data: ${usageEvent![1]}\n\n`, ''))).toBe(mask(direct));
    // Without include_usage nothing is added.
    const plain = await (await ask(relay, key.key, { stream: true })).text();
    expect(plain).not.toContain('"usage"');
    expect(plain.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('counts failures and disconnects, with tokens only for what was answered', async () => {
    const { relay, key, bridge } = await stack({ bridge: { slowDelayMs: 50 } });
    bridge.scenario = 'slow';
    const controller = new AbortController();
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: PROMPT }] }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let sse = '';
    const decoder = new TextDecoder();
    while (!sse.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended early: ${sse}`);
      sse += decoder.decode(value, { stream: true });
    }
    controller.abort();
    await bridge.nextEarlyClose();
    // After a 503 the agent reports its bridge down for a while: this one goes last.
    bridge.scenario = 'tab-closed';
    expect((await ask(relay, key.key)).status).toBe(503);
    const { json } = await relay.admin('GET', `/api/usage?key=${key.id}&group_by=`);
    expect(json.totals).toMatchObject({ requests: 2, succeeded: 0, failed: 1, cancelled: 1 });
    // The cut stream's prompt counts, and at least the text that reached the consumer.
    expect(json.totals.prompt_tokens).toBe(tokens(PROMPT));
    expect(json.totals.completion_tokens).toBeGreaterThanOrEqual(
      tokens(textOf(events(sse.slice(0, sse.lastIndexOf('\n\n') + 2)))),
    );
    expect(json.totals.completion_tokens).toBeLessThan(tokens(TEXT));
  });
});

describe('usage API', () => {
  it('groups by day, key, client and model, filters, and prices per model', async () => {
    const prices = { 'gpt-5': { prompt: 1.5, completion: 4 }, '*': { prompt: 0.1, completion: 0.2 } };
    const { relay, key, client } = await stack({ relay: { priceTable: prices } });
    const other = await relay.createKey('other app');
    for (const model of ['gpt-5', 'gpt-5', 'claude-opus-4'])
      await (await ask(relay, key.key, { model })).text();
    await (await ask(relay, other.key)).text();
    await (await ask(relay, other.key, { model: 'not-served' })).text();

    const byKey = (await relay.admin('GET', '/api/usage?group_by=key')).json;
    expect(byKey.group_by).toEqual(['key']);
    const perRequest = { p: tokens(PROMPT), c: tokens(TEXT) };
    const gpt = (perRequest.p * 1.5 + perRequest.c * 4) / 1000;
    const claude = (perRequest.p * 0.1 + perRequest.c * 0.2) / 1000;
    const app = byKey.groups.find((g: { key_id: string }) => g.key_id === key.id);
    expect(app).toMatchObject({ key_name: 'app', requests: 3, succeeded: 3 });
    expect(app.cost).toBeCloseTo(2 * gpt + claude, 9);
    const otherGroup = byKey.groups.find((g: { key_id: string }) => g.key_id === other.id);
    expect(otherGroup).toMatchObject({ key_name: 'other app', requests: 2, succeeded: 1, failed: 1 });
    expect(otherGroup.cost).toBeCloseTo(gpt, 9);
    expect(byKey.totals.cost).toBeCloseTo(3 * gpt + claude, 9);

    const byModel = (await relay.admin('GET', '/api/usage?group_by=model,client')).json;
    expect(byModel.groups.map((g: Record<string, unknown>) => [g.model, g.client_name, g.requests])).toEqual([
      ['claude-opus-4', 'bridge one', 1],
      ['gpt-5', 'bridge one', 3],
      ['not-served', null, 1],
    ]);

    const today = new Date().toISOString().slice(0, 10);
    const byDay = (await relay.admin('GET', `/api/usage?group_by=day&from=${today}&to=${today}`)).json;
    expect(byDay.groups).toEqual([expect.objectContaining({ day: today, requests: 5 })]);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await relay.admin('GET', `/api/usage?from=${tomorrow}`)).json.groups).toEqual([]);

    const filtered = (await relay.admin('GET', `/api/usage?client=${client.id}&model=gpt-5&group_by=`)).json;
    expect(filtered.totals.requests).toBe(3);
    expect((await relay.admin('GET', '/api/usage?client=none&group_by=')).json.totals.requests).toBe(1);
  });

  it('exports CSV with a header row and RFC 4180 quoting; it agrees with the JSON', async () => {
    const { relay } = await stack({ relay: { priceTable: { 'gpt-5': { prompt: 2, completion: 3 } } } });
    const awkward = await relay.createKey('Acme, "Prod"\nteam');
    for (let i = 0; i < 2; i++) await (await ask(relay, awkward.key)).text();
    const res = await fetch(`${relay.url}/api/usage?format=csv&group_by=day,key,model`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual([
      'day',
      'key_id',
      'key_name',
      'model',
      'requests',
      'succeeded',
      'cancelled',
      'failed',
      'prompt_tokens',
      'completion_tokens',
      'total_tokens',
      'estimated_requests',
      'avg_latency_ms',
      'avg_ttfb_ms',
      'cost',
    ]);
    expect(rows).toHaveLength(2);
    const record = Object.fromEntries(rows[0]!.map((name, i) => [name, rows[1]![i]]));
    const json = (await relay.admin('GET', '/api/usage?group_by=day,key,model')).json.groups[0];
    expect(record).toEqual(Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)])));
    expect(record.key_name).toBe('Acme, "Prod"\nteam');
    expect(Number(record.cost)).toBeCloseTo((2 * tokens(PROMPT) * 2 + 2 * tokens(TEXT) * 3) / 1000, 9);
  });

  it('lists every problem of a bad query in one 400', async () => {
    const relay = await startTestRelay();
    const { status, json } = await relay.admin(
      'GET',
      '/api/usage?group_by=week,key&from=yesterday&to=2026-13-01&format=xml&colour=red',
    );
    expect(status).toBe(400);
    expect(json.error.code).toBe('invalid_request');
    for (const field of ['group_by', 'from', 'to', 'format', 'colour'])
      expect(json.error.message).toContain(field);
    const reversed = await relay.admin('GET', '/api/usage?from=2026-02-02&to=2026-02-01');
    expect(reversed.status).toBe(400);
    expect(reversed.json.error.message).toMatch(/to: must be after from/);
    const anonymous = await fetch(`${relay.url}/api/usage`);
    expect(anonymous.status).toBe(401);
  });
});

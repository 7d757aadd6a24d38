/** Holds the fake bridge to the recordings of the real one (shared/fixtures/lmarenabridge/). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BRIDGE_ERROR_PREFIX,
  BRIDGE_TEXTS,
  type FakeBridge,
  type FakeBridgeOptions,
  type FakeBridgeScenario,
  pythonJson,
  startFakeBridge,
} from './fake-bridge.js';

// The recordings live beside the repository, in the shared folder; override for other layouts.
const FIXTURES =
  process.env.LMARENABRIDGE_FIXTURES ??
  fileURLToPath(new URL('../../../shared/fixtures/lmarenabridge/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const httpBody = (name: string) => fixture(name).split('\r\n\r\n').slice(1).join('\r\n\r\n');

type Block = { kind: 'STREAM' | 'NONSTREAM'; name: string; lines: string[]; status: number };

/** scenarios.txt: `=== KIND scenario:NAME`, the body (SSE events without blank lines), `[http N]`. */
function parseScenarios(text: string): Block[] {
  const blocks: Block[] = [];
  for (const line of text.split('\n')) {
    const head = /^=== (STREAM|NONSTREAM) scenario:(\S+)$/.exec(line);
    const status = /^\[http (\d+)\]$/.exec(line);
    const current = blocks.at(-1);
    if (head) blocks.push({ kind: head[1] as Block['kind'], name: head[2]!, lines: [], status: 0 });
    else if (status && current) current.status = Number(status[1]);
    else if (current && line !== '') current.lines.push(line);
  }
  return blocks;
}
const BLOCKS = parseScenarios(fixture('scenarios.txt'));
/** The last recording of a scenario: the earlier ones of lmerror/usage/filter are the Cloudflare state. */
const recorded = (kind: Block['kind'], name: string) =>
  BLOCKS.findLast((b) => b.kind === kind && b.name === name)!;
const sse = (lines: string[]) => lines.map((line) => `${line}\n\n`).join('');

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const normalise = (text: string) =>
  text.replace(new RegExp(`chatcmpl-${UUID}`, 'g'), 'chatcmpl-ID').replace(/"created": \d+/g, '"created": 0');

const bridges: FakeBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});
async function start(options: FakeBridgeOptions = {}): Promise<FakeBridge> {
  const bridge = await startFakeBridge(options);
  bridges.push(bridge);
  return bridge;
}

const request = (stream?: boolean, model: unknown = 'gpt-5') => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...(stream === undefined ? {} : { stream }),
});
function chat(bridge: FakeBridge, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${bridge.url}/v1/chat/completions`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
}

describe('pythonJson', () => {
  it('uses json.dumps spacing with raw UTF-8 and Python escapes', () => {
    const value = { a: 'x"\\\n\t\u0001你', b: [1, null, true, 2.5], c: {}, d: [], e: undefined };
    expect(pythonJson(value)).toBe(
      '{"a": "x\\"\\\\\\n\\t\\u0001你", "b": [1, null, true, 2.5], "c": {}, "d": []}',
    );
  });
});

describe('answers', () => {
  it('streams stream-ok.txt byte for byte, bar id and created', async () => {
    const bridge = await start();
    const res = await chat(bridge, request(true));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(normalise(body)).toBe(normalise(httpBody('stream-ok.txt')));
    const ids = new Set(body.match(/chatcmpl-[^"]+/g));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(new RegExp(`^chatcmpl-${UUID}$`));
    expect(bridge.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      closedEarly: false,
    });
    expect(bridge.requests[0]?.body).toEqual(request(true));
  });

  it('answers without stream like nonstream-ok.txt', async () => {
    const bridge = await start();
    const res = await chat(bridge, request(false));
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(normalise(body)).toBe(normalise(httpBody('nonstream-ok.txt')));
  });

  it('treats a missing stream flag as false and echoes any model, even an unknown one', async () => {
    const bridge = await start({ chunks: ['x'] });
    const plain = await (await chat(bridge, request(undefined, 'no-such-model'))).text();
    expect(plain).toContain('"object": "chat.completion", "created": ');
    expect(plain).toContain('"model": "no-such-model"');
    const streamed = await (await chat(bridge, request(true, ''))).text();
    expect(streamed).toContain('"model": "default_model"');
  });

  it('lists its models in the OpenAI shape', async () => {
    const bridge = await start({ models: ['a', 'b'] });
    const res = await fetch(`${bridge.url}/v1/models`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id)).toEqual(['a', 'b']);
    expect(list.data[0]).toMatchObject({
      object: 'model',
      owned_by: 'LMArenaBridge',
      created: expect.any(Number),
    });
    expect(bridge.requests).toHaveLength(0);
  });
});

describe('recorded scenarios', () => {
  const cases: Array<[Block['kind'], string, FakeBridgeScenario, FakeBridgeOptions?]> = [
    ['STREAM', 'error', 'error'],
    ['NONSTREAM', 'error', 'error'],
    ['STREAM', '413', 'attachment-too-large'],
    ['NONSTREAM', '413', 'attachment-too-large'],
    ['STREAM', 'cf', 'cloudflare'],
    ['STREAM', 'lmerror', 'empty'],
    ['NONSTREAM', 'lmerror', 'empty'],
    ['STREAM', 'usage', 'empty'],
    ['NONSTREAM', 'usage', 'ok'],
    // The recording's filtered stream carried no text before the stop chunk.
    ['STREAM', 'filter', 'filter', { chunks: [] }],
    ['NONSTREAM', 'filter', 'filter'],
  ];
  it.each(cases)('%s %s is reproduced by %s', async (kind, name, scenario, options) => {
    const block = recorded(kind, name);
    expect(block.lines.length).toBeGreaterThan(0);
    const bridge = await start({ ...options, scenario });
    const res = await chat(bridge, request(kind === 'STREAM'));
    expect(res.status).toBe(block.status);
    const expected = kind === 'STREAM' ? sse(block.lines) : block.lines.join('\n');
    expect(normalise(await res.text())).toBe(normalise(expected));
  });

  it('filter streams the chunks, then the recorded content-filter stop', async () => {
    const bridge = await start({ scenario: 'filter' });
    const lines = (await (await chat(bridge, request(true))).text()).split('\n').filter(Boolean);
    const ok = httpBody('stream-ok.txt').split('\n').filter(Boolean);
    expect(normalise(sse(lines))).toBe(
      normalise(sse([...ok.slice(0, -2), ...recorded('STREAM', 'filter').lines])),
    );
  });

  it('starts in-band errors with BRIDGE_ERROR_PREFIX', async () => {
    const bridge = await start({ scenario: 'error' });
    const text = await (await chat(bridge, request(true))).text();
    expect(text).toContain(pythonJson(BRIDGE_ERROR_PREFIX + BRIDGE_TEXTS.fetchFailure));
  });
});

describe('failure scenarios shaped like the recorded error', () => {
  // Every browser-side failure goes through the same path as the recorded `error`: only the text differs.
  const texts: Array<[FakeBridgeScenario, string]> = [
    ['timeout', BRIDGE_TEXTS.timeout],
    ['browser-disconnect', BRIDGE_TEXTS.browserDisconnected],
    ['session-expired', BRIDGE_TEXTS.sessionExpired],
    ['recaptcha', BRIDGE_TEXTS.recaptchaFailed],
    ['rate-limited', BRIDGE_TEXTS.rateLimited],
  ];
  const swap = (line: string, text: string) => line.replace(BRIDGE_TEXTS.fetchFailure, text);
  it.each(texts)(
    '%s streams and answers like the recorded error, with its own text',
    async (scenario, text) => {
      for (const kind of ['STREAM', 'NONSTREAM'] as const) {
        const block = recorded(kind, 'error');
        const bridge = await start({ scenario });
        const res = await chat(bridge, request(kind === 'STREAM'));
        expect(res.status).toBe(block.status);
        const lines = block.lines.map((line) => swap(line, pythonJson(text).slice(1, -1)));
        const expected = kind === 'STREAM' ? sse(lines) : lines.join('\n');
        expect(normalise(await res.text())).toBe(normalise(expected));
      }
    },
  );

  it('browser-disconnect leaves the tab gone: 503 "not connected" to every chat until reset', async () => {
    const bridge = await start({ scenario: 'browser-disconnect' });
    expect((await chat(bridge, request(true))).status).toBe(200);
    bridge.scenario = 'ok';
    const res = await chat(bridge, request(true));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(JSON.stringify({ detail: BRIDGE_TEXTS.tabClosed }));
    bridge.reset();
    expect((await chat(bridge, request(true))).status).toBe(200);
  });

  it('puts a retry_after in the 429 text when asked', async () => {
    const bridge = await start({ scenario: 'rate-limited', rateLimitRetryAfter: 7 });
    const body = (await (await chat(bridge, request(false))).json()) as { error: { message: string } };
    expect(body.error.message).toBe(
      '[LMArena Bridge Error]: 网络响应不正常。状态: 429. 内容: {"error":"Too Many Requests","retry_after":7}',
    );
  });
});

describe('serve probe', () => {
  it('answers a JSON array as the bridge does, by state, and keeps it out of requests', async () => {
    const bridge = await start();
    const probe = () => chat(bridge, '[]');
    const ok = await probe();
    expect(ok.status).toBe(500);
    expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await ok.text()).toBe('Internal Server Error');
    bridge.scenario = 'tab-closed';
    const closed = await probe();
    expect(closed.status).toBe(503);
    expect(await closed.text()).toBe(JSON.stringify({ detail: BRIDGE_TEXTS.tabClosed }));
    bridge.scenario = 'cloudflare';
    await (await chat(bridge, request(true))).text();
    const refreshing = await probe();
    expect(refreshing.status).toBe(503);
    expect(await refreshing.text()).toBe(JSON.stringify({ detail: BRIDGE_TEXTS.cloudflareRefreshing }));
    expect(bridge.serveProbes).toBe(3);
    expect(bridge.requests).toHaveLength(1);
  });
});

describe('cloudflare state', () => {
  const stateBlocks = BLOCKS.filter((b) => b.status === 503);

  it('answers 503 to every chat request after the check, until reset', async () => {
    expect(stateBlocks.map((b) => `${b.kind} ${b.name}`)).toHaveLength(7);
    const bridge = await start({ scenario: 'cloudflare' });
    expect((await chat(bridge, request(true))).status).toBe(200);
    bridge.scenario = 'ok';
    for (const block of stateBlocks) {
      const res = await chat(bridge, request(block.kind === 'STREAM'));
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.text()).toBe(block.lines.join('\n'));
    }
    expect((await fetch(`${bridge.url}/v1/models`)).status).toBe(200);
    bridge.reset();
    expect(bridge.requests).toHaveLength(0);
    const res = await chat(bridge, request(true));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"content": "Hello!"');
  });

  it('fails a non-streamed request with a bridge_error 500 first', async () => {
    const bridge = await start({ scenario: 'cloudflare' });
    const first = await chat(bridge, request(false));
    expect(first.status).toBe(500);
    expect(await first.json()).toEqual({
      error: {
        message: `[LMArena Bridge Error]: ${BRIDGE_TEXTS.cloudflareDetected}`,
        type: 'bridge_error',
        code: 'processing_error',
      },
    });
    expect((await chat(bridge, request(false))).status).toBe(503);
  });
});

describe('errors outside a stream', () => {
  it('answers 503 with a detail when the tab is closed', async () => {
    const bridge = await start({ scenario: 'tab-closed' });
    for (const stream of [true, false]) {
      const res = await chat(bridge, request(stream));
      expect(res.status).toBe(503);
      expect(await res.text()).toBe(JSON.stringify({ detail: BRIDGE_TEXTS.tabClosed }));
    }
  });

  it('answers 400 to a body that is not JSON and records the raw text', async () => {
    const bridge = await start();
    const res = await chat(bridge, '{"model": ');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"detail":"无效的 JSON 请求体"}');
    expect(bridge.requests[0]?.body).toBe('{"model": ');
  });

  it('has no /health and no images endpoint', async () => {
    const bridge = await start();
    for (const [method, path] of [
      ['GET', '/health'],
      ['POST', '/v1/images/generations'],
    ] as const) {
      const res = await fetch(`${bridge.url}${path}`, { method });
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('{"detail":"Not Found"}');
    }
    expect((await fetch(`${bridge.url}/v1/chat/completions`)).status).toBe(405);
  });

  it('wants the api key on chat and models when it has one', async () => {
    const bridge = await start({ apiKey: 'k1' });
    const detail = async (res: Response) => [res.status, ((await res.json()) as { detail: string }).detail];
    expect(await detail(await chat(bridge, request(true)))).toEqual([401, BRIDGE_TEXTS.missingKey]);
    const wrong = { headers: { authorization: 'Bearer k2' } };
    expect(await detail(await chat(bridge, request(true), wrong))).toEqual([401, BRIDGE_TEXTS.wrongKey]);
    expect(await detail(await fetch(`${bridge.url}/v1/models`))).toEqual([401, BRIDGE_TEXTS.missingKey]);
    const right = { headers: { authorization: 'Bearer k1' } };
    expect((await chat(bridge, request(true), right)).status).toBe(200);
    expect((await fetch(`${bridge.url}/v1/models`, right)).status).toBe(200);
  });
});

describe('connections', () => {
  it('hang sends headers, then nothing, until the client aborts', async () => {
    const bridge = await start({ scenario: 'hang' });
    const controller = new AbortController();
    const res = await chat(bridge, request(true), { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(bridge.openStreams).toBe(1);
    const closed = bridge.nextEarlyClose();
    controller.abort();
    const record = await closed;
    expect(record).toBe(bridge.requests[0]);
    expect(record.closedEarly).toBe(true);
    expect(bridge.openStreams).toBe(0);
  });

  it('reports an early close that happened before nextEarlyClose was called', async () => {
    const bridge = await start({ scenario: 'hang' });
    const controller = new AbortController();
    const pending = chat(bridge, request(false), { signal: controller.signal }).catch((e: unknown) => e);
    await expect
      .poll(() => bridge.requests.length === 1 && bridge.requests[0]?.body !== undefined)
      .toBe(true);
    controller.abort();
    await pending;
    await expect.poll(() => bridge.openStreams).toBe(0);
    expect((await bridge.nextEarlyClose()).closedEarly).toBe(true);
  });

  it('writes each event on its own and stops a slow answer when the client leaves', async () => {
    const bridge = await start({ scenario: 'slow', slowDelayMs: 60_000 });
    const controller = new AbortController();
    const res = await chat(bridge, request(true), { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.endsWith('\n\n')) text += Buffer.from((await reader.read()).value!).toString('utf8');
    expect(normalise(text)).toBe(`${normalise(httpBody('stream-ok.txt').split('\n\n')[0]!)}\n\n`);
    const closed = bridge.nextEarlyClose();
    controller.abort();
    expect((await closed).closedEarly).toBe(true);
  });

  it('closes with streams open, and closes again', async () => {
    const bridge = await start({ scenario: 'hang' });
    const open = await Promise.all([chat(bridge, request(true)), chat(bridge, request(true))]);
    expect(bridge.openStreams).toBe(2);
    await bridge.close();
    await bridge.close();
    expect(bridge.openStreams).toBe(0);
    for (const res of open) await expect(res.text()).rejects.toThrow();
    expect(bridge.requests.every((r) => r.closedEarly)).toBe(true);
  });
});

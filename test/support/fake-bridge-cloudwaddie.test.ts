/** Holds the fake CloudWaddie bridge to the recordings of the real one (shared/fixtures/cloudwaddie/). */
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOUDWADDIE_FIXTURES, cloudWaddieChatScenarios, recording } from './cloudwaddie-recordings.js';
import {
  CLOUDWADDIE_KEY,
  CLOUDWADDIE_PROMPT_LIMIT,
  type CloudWaddieBridge,
  type CloudWaddieOptions,
  startCloudWaddieBridge,
} from './fake-bridge-cloudwaddie.js';

/** The fixture file exactly: status line, headers, blank line, body. */
const fixture = (name: string) => readFileSync(join(CLOUDWADDIE_FIXTURES, `${name}.txt`));
const fixtureBody = (name: string) => {
  const bytes = fixture(name);
  return bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
};
/** `name: value` lines of the fixture's head, `date` aside (a generated answer has today's). */
const fixtureHeaders = (name: string, withDate = true) =>
  fixture(name)
    .subarray(0, fixture(name).indexOf('\r\n\r\n'))
    .toString('latin1')
    .split('\r\n')
    .slice(1)
    .filter((line) => withDate || !line.startsWith('date:'));

const bridges: CloudWaddieBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});
async function start(options: CloudWaddieOptions = {}): Promise<CloudWaddieBridge> {
  const bridge = await startCloudWaddieBridge({ timeScale: 0.001, ...options });
  bridges.push(bridge);
  return bridge;
}

/** One request over a raw socket; resolves with every byte the bridge sent, framing included. */
function rawRequest(bridge: CloudWaddieBridge, head: string, body = ''): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(bridge.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      // Chunked replies end with the zero chunk; fixed-length ones once content-length is in.
      const split = all.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(all.subarray(0, split).toString('latin1'));
      if (
        all.subarray(-5).toString() === '0\r\n\r\n' ||
        (length && all.length - split - 4 >= Number(length[1]))
      ) {
        socket.destroy();
        resolve(all);
      }
    });
    socket.on('error', reject);
    socket.write(`${head}\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
const normalise = (bytes: Buffer) =>
  bytes
    .toString('latin1')
    .replace(/chatcmpl-[0-9a-f-]{36}/g, 'chatcmpl-ID')
    .replace(/"created": \d+/g, '"created": 0');
const headLines = (bytes: Buffer) =>
  bytes.subarray(0, bytes.indexOf('\r\n\r\n')).toString('latin1').split('\r\n');
const afterHead = (bytes: Buffer) => bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);

const chatBody = (content: string, stream: boolean, model = 'gpt-5-chat') =>
  JSON.stringify({ model, messages: [{ role: 'user', content }], stream });
const authed = { authorization: `Bearer ${CLOUDWADDIE_KEY}`, 'content-type': 'application/json' };
function chat(bridge: CloudWaddieBridge, body: string, headers: Record<string, string> = authed) {
  return fetch(`${bridge.baseUrl}/chat/completions`, { method: 'POST', body, headers });
}

describe('recorded chat scenarios', () => {
  const cases = cloudWaddieChatScenarios().flatMap((scenario) =>
    (['stream', 'nonstream'] as const)
      .filter((kind) => {
        try {
          return recording(`${scenario}-${kind}`).status !== 0;
        } catch {
          return false;
        }
      })
      .map((kind) => [scenario, kind] as const),
  );

  it('covers every recorded chat fixture but the hang', () => {
    const files = readdirSync(CLOUDWADDIE_FIXTURES).filter((file) => /-(non)?stream\.txt$/.test(file));
    expect(cases.length).toBe(files.length - 1);
    expect(cases.length).toBeGreaterThan(80);
  });

  it.each(cases)('%s (%s) replays its fixture byte for byte, head included', async (scenario, kind) => {
    const bridge = await start();
    const name = `${scenario}-${kind}`;
    const sent = await rawRequest(
      bridge,
      `POST /api/v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${CLOUDWADDIE_KEY}`,
      chatBody(`fixture:${scenario}`, kind === 'stream'),
    );
    const lines = headLines(sent);
    expect(lines[0]).toBe(fixture(name).toString('latin1').split('\r\n')[0]);
    // Node adds its connection headers; every recorded one is there, in the recorded order.
    const recorded = fixtureHeaders(name);
    expect(lines.filter((line) => recorded.includes(line))).toEqual(recorded);
    const body = afterHead(sent);
    if (kind === 'stream' && recording(name).status === 200) {
      // One HTTP chunk per recorded read, as uvicorn sent them.
      const pieces = fixtureBody(name)
        .toString('latin1')
        .split(/(?<=\n\n)/)
        .map((text) => Buffer.from(text, 'latin1'));
      const framed = Buffer.concat([
        ...pieces.map((piece) =>
          Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]),
        ),
        Buffer.from('0\r\n\r\n'),
      ]);
      expect(body.equals(framed)).toBe(true);
    } else {
      expect(body.equals(fixtureBody(name))).toBe(true);
    }
  });

  it('frames streams exactly as raw/*.chunked.txt', async () => {
    const bridge = await start();
    for (const scenario of ['429', 'finish']) {
      const sent = await rawRequest(
        bridge,
        `POST /api/v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${CLOUDWADDIE_KEY}`,
        chatBody(`fixture:${scenario}`, true),
      );
      // Another run of the same scenario: only its ids and times differ (same lengths).
      const raw = readFileSync(join(CLOUDWADDIE_FIXTURES, 'raw', `${scenario}-stream.chunked.txt`));
      expect(normalise(afterHead(sent))).toBe(normalise(afterHead(raw)));
    }
  });

  it('keeps the keep-alive cadence, time-scaled: seconds of comments before the error', async () => {
    const bridge = await start({ timeScale: 0.02 });
    const started = performance.now();
    const res = await chat(bridge, chatBody('fixture:429', true));
    const reader = res.body!.getReader();
    const arrivals: Array<[number, string]> = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push([performance.now() - started, Buffer.from(value).toString()]);
    }
    const errorAt = arrivals.find(([, text]) => text.includes('"error"'))![0];
    // Recorded at 9.287 s: 186 ms at 0.02, with ten comments spread before it.
    expect(errorAt).toBeGreaterThanOrEqual(9.287 * 20 - 5);
    const comments = arrivals.filter(([at, text]) => at < errorAt && text.startsWith(': keep-alive'));
    expect(comments.length).toBeGreaterThanOrEqual(3);
    expect(comments.at(-1)![0] - comments[0]![0]).toBeGreaterThan(8 * 20 * 0.5);
  });

  it('hangs the worker-busy request until the client leaves', async () => {
    const bridge = await start();
    const controller = new AbortController();
    const pending = chat(bridge, chatBody('fixture:direct-workerbusy-hang', false)).catch((e) => e);
    const aborted = fetch(`${bridge.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: authed,
      body: chatBody('fixture:direct-workerbusy-hang', false),
      signal: controller.signal,
    }).catch((error: Error) => error.name);
    await expect.poll(() => bridge.openStreams).toBe(2);
    controller.abort();
    expect(await aborted).toBe('AbortError');
    await bridge.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('its own checks', () => {
  it('answers a wrong key 401 as recorded, and serves a missing or non-Bearer key', async () => {
    const bridge = await start();
    const wrong = await chat(bridge, chatBody('hi', false), { authorization: 'Bearer sk-lmab-wrong' });
    expect(wrong.status).toBe(401);
    expect(Buffer.from(await wrong.arrayBuffer()).equals(fixtureBody('wrongkey-nonstream'))).toBe(true);
    const models = await fetch(`${bridge.baseUrl}/models`, { headers: { authorization: 'Bearer nope' } });
    expect(models.status).toBe(401);
    for (const headers of [{}, { authorization: CLOUDWADDIE_KEY }] as Array<Record<string, string>>) {
      const served = await chat(bridge, chatBody('hi', false), headers);
      expect(served.status).toBe(200);
      expect(((await served.json()) as { choices: unknown[] }).choices).toHaveLength(1);
    }
  });

  it('limits each key to its RPM with retry-after, the missing key counting as the first', async () => {
    const bridge = await start({ rpm: 2, keys: [CLOUDWADDIE_KEY, 'sk-lmab-second'] });
    const models = (authorization?: string) =>
      fetch(`${bridge.baseUrl}/models`, { headers: authorization ? { authorization } : {} });
    expect((await models(`Bearer ${CLOUDWADDIE_KEY}`)).status).toBe(200);
    expect((await models()).status).toBe(200);
    const third = await models(`Bearer ${CLOUDWADDIE_KEY}`);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(Buffer.from(await third.arrayBuffer()).equals(fixtureBody('keyrpm-3'))).toBe(true);
    expect((await models('Bearer sk-lmab-second')).status).toBe(200);
  });

  it('lists the recorded models and answers health as recorded', async () => {
    const bridge = await start({ health: 'degraded-health' });
    const list = await fetch(`${bridge.baseUrl}/models`);
    expect(Buffer.from(await list.arrayBuffer()).equals(fixtureBody('models-withkey'))).toBe(true);
    const health = await fetch(`${bridge.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(Buffer.from(await health.arrayBuffer()).equals(fixtureBody('degraded-health'))).toBe(true);
    expect((await fetch(`${bridge.url}/v1/models`)).status).toBe(404);
  });

  it('refuses an unknown model and a prompt over 113 567 characters in the recorded words', async () => {
    const bridge = await start();
    const unknown = await chat(bridge, chatBody('hi', true, 'no-such-model'));
    expect(unknown.status).toBe(404);
    expect([...unknown.headers.keys()]).toContain('content-length');
    expect(Buffer.from(await unknown.arrayBuffer()).equals(fixtureBody('unknownmodel-stream'))).toBe(true);
    const tooLong = await chat(bridge, chatBody('x'.repeat(CLOUDWADDIE_PROMPT_LIMIT + 1), false));
    expect(tooLong.status).toBe(400);
    expect(Buffer.from(await tooLong.arrayBuffer()).equals(fixtureBody('toolong-nonstream'))).toBe(true);
    const atLimit = await chat(bridge, chatBody('x'.repeat(CLOUDWADDIE_PROMPT_LIMIT), false));
    expect(atLimit.status).toBe(200);
  });

  it('serves non-streamed chats one after another (one browser worker)', async () => {
    const bridge = await start({ timeScale: 0.01 });
    const started = performance.now();
    const done: number[] = [];
    await Promise.all(
      [0, 1].map(async () => {
        const res = await chat(bridge, chatBody('fixture:slow', false));
        await res.arrayBuffer();
        done.push(performance.now() - started);
      }),
    );
    // 13.1 s each, recorded: the second ends after both, 262 ms at 0.01.
    expect(Math.max(...done)).toBeGreaterThanOrEqual(2 * 13.11 * 10 - 5);
  });
});

import { PROTOCOL_VERSION, PROTOCOLS, SUBPROTOCOL } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk } from './test-support/fake-bridge.js';
import { CHAT, type Harness, holdStreams, openHeld, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';
import { inEnglish } from './upstream/bridge-words.js';
import { AGENT_VERSION } from './version.js';

const BRIDGE_ERROR = '\n\n[LMArena Bridge Error]: 网络响应不正常。状态: 500. 内容: fake upstream failure';

/** The ready frame of an agent whose bridge does not answer. */
const BRIDGE_DOWN = {
  type: 'ready',
  ready: false,
  reason: 'bridge unreachable: ECONNREFUSED',
  code: 'bridge_down',
  // Nothing answered `bridge: auto`: v2.7.6 assumed until the bridge is there.
  dialect: 'lmarenabridge-v2',
};

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('agent ⇄ bridge', () => {
  it('says hello with the bridge models, its limits and readiness, over the token and subprotocol', async () => {
    h = await startHarness({ config: { clientId: 'cl_1', maxConcurrency: 3 } });
    const conn = await h.relay.connection();
    expect(conn.hello).toEqual({
      type: 'hello',
      version: PROTOCOL_VERSION,
      clientId: 'cl_1',
      agentVersion: AGENT_VERSION,
      instanceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      capabilities: ['chat'],
      models: ['gpt-5', 'claude-opus'],
      maxConcurrency: 3,
      ready: true,
      // One relay address: one socket, holding every slot.
      slots: 3,
      protocols: [...PROTOCOLS],
      pushedSettings: true,
      // It never reads the consumer's headers: the relay leaves them out of `open`.
      openHeaders: false,
      // It writes a rerouted model into the body itself: the relay sends the consumer's bytes.
      routedModel: true,
      // `bridge: auto` found v2.7.6 from its model list; it has no known prompt limit.
      dialect: 'lmarenabridge-v2',
    });
    expect(conn.authorization).toBe('Bearer good-token');
    expect(conn.ws.protocol).toBe(SUBPROTOCOL);
  });

  it('says hello not ready, with the reason, when the bridge is unreachable', async () => {
    h = await startHarness({ config: { upstreamUrl: 'http://127.0.0.1:1' } });
    const conn = await h.relay.connection();
    expect(conn.hello).toMatchObject({
      ready: false,
      models: [],
      readyReason: 'bridge unreachable: ECONNREFUSED',
    });
    // `hello` has no code field (older relays): the reason code follows at once in a ready frame.
    expect(await conn.waitFrame('ready')).toEqual(BRIDGE_DOWN);
  });

  it('holds head until the first event, then relays the stream byte for byte', async () => {
    h = await startHarness();
    const { conn, res } = await openHeld(h, 1);
    const body = Buffer.from(sseChunk('Hello!') + sseChunk(' 你好，世界。 "quoted"\nline') + SSE_DONE);
    const firstEnd = body.indexOf('\n\n') + 2;
    res.write(body.subarray(0, firstEnd - 1));
    await conn.health('after-partial-first-event');
    expect(conn.framesOf(1)).toEqual([]);
    const midCharacter = body.indexOf('你') + 1;
    res.write(body.subarray(firstEnd - 1, midCharacter));
    expect(await conn.waitFrame('head', (f) => f.stream === 1)).toEqual({
      type: 'head',
      stream: 1,
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8' },
    });
    res.end(body.subarray(midCharacter));
    expect(await conn.waitFrame('end', (f) => f.stream === 1)).toEqual({ type: 'end', stream: 1 });
    expect(conn.bytes(1).equals(body)).toBe(true);
    expect(conn.violations).toEqual([]);
    const seen = h.bridge.chats[0]!;
    expect(JSON.parse(seen.body)).toEqual(CHAT);
    expect(seen.headers.authorization).toBeUndefined();
    expect(h.agent.stats()).toMatchObject({
      requests: 1,
      successes: 1,
      failures: 0,
      in_flight: 0,
      bytes_out: body.length,
    });
  });

  it('turns an in-band error as first event into an error frame, with no head, and aborts the bridge', async () => {
    h = await startHarness();
    const held = holdStreams(h);
    const conn = await h.relay.connection();
    conn.open(2, CHAT);
    (await waitFor(() => held[0], 'the chat request')).write(sseChunk(BRIDGE_ERROR));
    // The same failure the bridge answers with a 500 when not streaming: one status, one code.
    expect(await conn.waitFrame('error', (f) => f.stream === 2)).toEqual({
      type: 'error',
      stream: 2,
      code: 'upstream_error',
      status: 500,
      scope: 'model',
      message: inEnglish('网络响应不正常。状态: 500. 内容: fake upstream failure'),
    });
    await waitFor(() => h.bridge.aborted === 1, 'the bridge request to be aborted');
    expect(conn.framesOf(2).map((f) => f.type)).toEqual(['error']);
    expect(conn.bytes(2).length).toBe(0);
  });

  it('turns a later in-band error into an error frame instead of forwarding it', async () => {
    h = await startHarness();
    const { conn, res } = await openHeld(h, 3);
    const first = sseChunk('Hello');
    res.write(first);
    await waitFor(() => conn.bytes(3).length === first.length, 'the first event');
    res.write(sseChunk('\n\n[LMArena Bridge Error]: Model is currently unavailable (fake)'));
    expect(await conn.waitFrame('error', (f) => f.stream === 3)).toMatchObject({
      code: 'upstream_error',
      message: 'Model is currently unavailable (fake)',
    });
    await waitFor(() => h.bridge.aborted === 1, 'the bridge request to be aborted');
    expect(conn.bytes(3).toString()).toBe(first);
    expect(conn.framesOf(3).map((f) => f.type)).toEqual(['head', 'error']);
  });

  it('relays a non-stream JSON answer byte for byte, and claims no usage in end', async () => {
    h = await startHarness();
    const body =
      '{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-5", "choices": [{"index": 0, "message": {"role": "assistant", "content": "你好"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 0, "completion_tokens": 23, "total_tokens": 23}}';
    h.bridge.chat = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const conn = await h.relay.connection();
    conn.open(4, { ...CHAT, stream: false });
    // The relay meters by itself; an `end` carries nothing more (the dead `usage` field is gone).
    expect(await conn.waitFrame('end', (f) => f.stream === 4)).toEqual({ type: 'end', stream: 4 });
    expect(conn.framesOf(4)[0]).toEqual({
      type: 'head',
      stream: 4,
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
    expect(conn.bytes(4).toString()).toBe(body);
  });

  it.each([
    [
      503,
      '{"detail":"正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。"}',
      'upstream_unavailable',
      `bridge answered 503: ${inEnglish('正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。')}`,
    ],
    [
      500,
      '{"error": {"message": "[LMArena Bridge Error]: boom", "type": "bridge_error", "code": "processing_error"}}',
      'upstream_error',
      'boom',
    ],
    [
      413,
      '{"error": {"message": "too large", "type": "bridge_error", "code": "attachment_too_large"}}',
      'upstream_rejected',
      'bridge answered 413: too large',
    ],
    [400, '{"detail": "无效的 JSON"}', 'upstream_rejected', 'bridge answered 400: 无效的 JSON'],
    [
      401,
      '{"detail": "Invalid API Key"}',
      'upstream_unavailable',
      "the bridge rejected the agent's key (401): Invalid API Key",
    ],
  ])('maps a bridge %i to an error frame', async (status, body, code, message) => {
    h = await startHarness();
    h.bridge.chat = (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    const conn = await h.relay.connection();
    conn.open(5, CHAT);
    const error = await conn.waitFrame('error', (f) => f.stream === 5);
    expect(error).toMatchObject({ code, status });
    expect(error.message.startsWith(message)).toBe(true);
    expect(conn.framesOf(5)).toHaveLength(1);
  });

  it('flips readiness off on a chat answered 503, and back on once a probe finds the tab again', async () => {
    h = await startHarness();
    h.bridge.chat = (_req, res) => res.writeHead(503).end('{"detail":"浏览器未连接"}');
    const conn = await h.relay.connection();
    conn.open(6, CHAT);
    expect(await conn.waitFrame('ready')).toEqual({
      type: 'ready',
      ready: false,
      reason: 'bridge answered 503: 浏览器未连接',
      code: 'bridge_error',
      dialect: 'lmarenabridge-v2',
    });
    expect(h.agent.status()).toMatchObject({
      ready: false,
      ready_reason: 'bridge answered 503: 浏览器未连接',
      ready_code: 'bridge_error',
    });
    // /v1/models answering is not enough while the chat route still says 503.
    expect((await conn.health('still-503')).bridge).toMatchObject({ ok: false, status: 503 });
    // LMArenaBridge with its tab back: a JSON array passes its checks and fails on the first read.
    h.bridge.chat = (_req, res) =>
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
    h.bridge.models = ['gpt-5'];
    await conn.health('probe');
    expect(await conn.waitFrame('ready', (f) => f.ready)).toEqual({
      type: 'ready',
      ready: true,
      dialect: 'lmarenabridge-v2',
    });
    expect(await conn.waitFrame('models')).toEqual({ type: 'models', models: ['gpt-5'] });
  });

  it('answers health with the probe result', async () => {
    h = await startHarness();
    const conn = await h.relay.connection();
    h.bridge.modelsStatus = 503;
    const answer = await conn.health('h-1');
    expect(answer).toMatchObject({
      type: 'health',
      id: 'h-1',
      bridge: { ok: false, status: 503, reason: 'bridge answered 503: models unavailable' },
    });
    expect(answer.bridge?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports an unreachable bridge as upstream_unavailable, and goes not ready once a probe confirms it', async () => {
    h = await startHarness();
    const conn = await h.relay.connection();
    await h.bridge.close();
    conn.open(7, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 7)).toMatchObject({
      code: 'upstream_unavailable',
      message: 'bridge unreachable: ECONNREFUSED',
    });
    expect(await conn.waitFrame('ready')).toEqual(BRIDGE_DOWN);
  });

  it('stays ready when one chat connection is reset but the bridge still answers', async () => {
    h = await startHarness();
    h.bridge.chat = (req) => req.socket.destroy();
    const conn = await h.relay.connection();
    conn.open(9, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 9)).toMatchObject({
      code: 'upstream_unavailable',
    });
    // The probe that the failure set off has answered by the time a health round trip does.
    expect((await conn.health('after-reset')).bridge).toMatchObject({ ok: true });
    expect(conn.frames.filter((f) => f.type === 'ready')).toEqual([]);
    expect(h.agent.status()).toMatchObject({ ready: true });
  });
});

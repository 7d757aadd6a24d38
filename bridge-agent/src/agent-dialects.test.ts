import { afterEach, describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk, startSse } from './test-support/fake-bridge.js';
import { CHAT, type Harness, holdStreams, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('dialects through the agent', () => {
  it('webai2api: :keepalive comments then an error event give one error frame and no head', async () => {
    h = await startHarness({ config: { bridge: 'webai2api' } });
    const held = holdStreams(h);
    const conn = await h.relay.connection();
    expect(conn.hello).toMatchObject({ dialect: 'webai2api' });
    conn.open(1, CHAT);
    const res = await waitFor(() => held[0], 'the chat request');
    res.write(':keepalive\n\n');
    res.write(':keepalive\n\n');
    res.end(`data: {"error":{"message":"busy","type":"server_error","code":"SERVER_BUSY"}}\n\n${SSE_DONE}`);
    expect(await conn.waitFrame('error', (f) => f.stream === 1)).toMatchObject({
      code: 'upstream_unavailable',
      status: 429,
      scope: 'bridge',
      reason: 'upstream_rate_limited',
    });
    expect(conn.framesOf(1).map((f) => f.type)).toEqual(['error']);
    expect(conn.bytes(1).length).toBe(0);
  });

  it('openai: keep-alives then content commit the head at the content, without the keep-alives', async () => {
    h = await startHarness({ config: { bridge: 'openai' } });
    const held = holdStreams(h);
    const conn = await h.relay.connection();
    conn.open(2, CHAT);
    const res = await waitFor(() => held[0], 'the chat request');
    res.write(': ping\n\n');
    res.end(sseChunk('Hello') + SSE_DONE);
    await conn.waitFrame('end', (f) => f.stream === 2);
    expect(conn.framesOf(2).map((f) => f.type)).toEqual(['head', 'end']);
    expect(conn.bytes(2).toString()).toBe(sseChunk('Hello') + SSE_DONE);
  });

  it('openai: [DONE] alone and a 200 whose body is an error never go out as answers', async () => {
    h = await startHarness({ config: { bridge: 'openai' } });
    let call = 0;
    h.bridge.chat = (_req, res) => {
      call++;
      if (call === 1) {
        startSse(res);
        return void res.end(SSE_DONE);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"error":"model \\"x\\" not found"}');
    };
    const conn = await h.relay.connection();
    conn.open(3, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 3)).toMatchObject({
      code: 'upstream_error',
      status: 502,
    });
    conn.open(4, { ...CHAT, stream: false });
    expect(await conn.waitFrame('error', (f) => f.stream === 4)).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('not found'),
    });
    expect([...conn.framesOf(3), ...conn.framesOf(4)].map((f) => f.type)).toEqual(['error', 'error']);
  });

  it('lmarenabridge-cw: says its dialect and prompt limit in the hello', async () => {
    h = await startHarness({ config: { bridge: 'lmarenabridge-cw' } });
    const conn = await h.relay.connection();
    expect(conn.hello).toMatchObject({ dialect: 'lmarenabridge-cw', promptLimitChars: 113_567 });
  });
});

/** Flow control, cancellation and admission: credit windows, cancel, busy, drain. */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk, startSse } from './test-support/fake-bridge.js';
import { CHAT, type Harness, type HarnessOptions, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Starts a harness whose bridge opens an event stream per chat and hands it to the test. */
async function withHeldStreams(options: HarnessOptions = {}): Promise<{ held: ServerResponse[] }> {
  h = await startHarness(options);
  const held: ServerResponse[] = [];
  h.bridge.chat = (_req, res) => {
    startSse(res);
    held.push(res);
  };
  return { held };
}

describe('flow control', () => {
  it('stops at exactly the window and continues after credit', async () => {
    const { held } = await withHeldStreams({ relay: { welcome: { streamWindow: 64 } } });
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    const res = await waitFor(() => held[0], 'the chat request');
    const body = Buffer.from(sseChunk('one') + sseChunk('two') + SSE_DONE);
    res.end(body);
    await waitFor(() => conn.bytes(1).length === 64, '64 bytes');
    await conn.health('settle-1');
    expect(conn.bytes(1).length).toBe(64);
    conn.send({ type: 'credit', stream: 1, bytes: 100 });
    await waitFor(() => conn.bytes(1).length === 164, '164 bytes');
    await conn.health('settle-2');
    expect(conn.bytes(1).length).toBe(164);
    expect(conn.framesOf(1).map((f) => f.type)).toEqual(['head']);
    conn.send({ type: 'credit', stream: 1, bytes: body.length });
    await conn.waitFrame('end', (f) => f.stream === 1);
    expect(conn.bytes(1).equals(body)).toBe(true);
    expect(conn.violations).toEqual([]);
  });

  it('splits chunks to the relay maxFrameBytes', async () => {
    const { held } = await withHeldStreams({ relay: { welcome: { maxFrameBytes: 5 + 100 } } });
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    const body = Buffer.from(sseChunk('x'.repeat(500)) + SSE_DONE);
    (await waitFor(() => held[0], 'the chat request')).end(body);
    await conn.waitFrame('end', (f) => f.stream === 1);
    const sizes = conn.data.get(1)!.map((payload) => payload.length);
    expect(Math.max(...sizes)).toBe(100);
    expect(conn.bytes(1).equals(body)).toBe(true);
  });
});

describe('cancel, busy, drain', () => {
  it('aborts the bridge request on cancel and sends nothing back', async () => {
    const { held } = await withHeldStreams();
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    (await waitFor(() => held[0], 'the chat request')).write(sseChunk('Hello'));
    await conn.waitFrame('head', (f) => f.stream === 1);
    conn.send({ type: 'cancel', stream: 1, reason: 'consumer left' });
    await waitFor(() => h.bridge.aborted === 1, 'the bridge to see its request closed');
    await conn.health('settle');
    expect(conn.framesOf(1).map((f) => f.type)).toEqual(['head']);
    expect(h.agent.stats()).toMatchObject({ requests: 1, cancelled: 1, in_flight: 0 });
  });

  it('answers busy at max_concurrency and serves again once a stream is free', async () => {
    const { held } = await withHeldStreams({ config: { maxConcurrency: 1 } });
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    const first = await waitFor(() => held[0], 'the chat request');
    conn.open(2, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 2)).toMatchObject({ code: 'busy' });
    first.end(sseChunk('done') + SSE_DONE);
    await conn.waitFrame('end', (f) => f.stream === 1);
    conn.open(3, CHAT);
    (await waitFor(() => held[1], 'the second chat request')).end(sseChunk('again') + SSE_DONE);
    await conn.waitFrame('end', (f) => f.stream === 3);
    expect(h.bridge.chats).toHaveLength(2);
    expect(h.agent.stats()).toMatchObject({ requests: 2, successes: 2, refused: 1 });
  });

  it('answers protocol_error to an open for a live stream id and drops that stream', async () => {
    const { held } = await withHeldStreams();
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    await waitFor(() => held[0], 'the chat request');
    conn.open(1, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 1)).toMatchObject({ code: 'protocol_error' });
    await waitFor(() => h.bridge.aborted === 1, 'the bridge to see its request closed');
    expect(h.bridge.chats).toHaveLength(1);
    expect(conn.framesOf(1).map((f) => f.type)).toEqual(['error']);
  });

  it('takes no new streams after drain but finishes the ones in flight', async () => {
    const { held } = await withHeldStreams();
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    const first = await waitFor(() => held[0], 'the chat request');
    conn.send({ type: 'drain', reason: 'maintenance' });
    conn.open(2, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 2)).toMatchObject({ code: 'busy' });
    first.end(sseChunk('still here') + SSE_DONE);
    await conn.waitFrame('end', (f) => f.stream === 1);
    expect(h.bridge.chats).toHaveLength(1);
  });

  it('aborts in-flight bridge requests when the relay socket closes', async () => {
    const { held } = await withHeldStreams();
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    await waitFor(() => held[0], 'the chat request');
    conn.ws.terminate();
    await waitFor(() => h.bridge.aborted === 1, 'the bridge to see its request closed');
    await waitFor(() => h.agent.stats().in_flight === 0, 'no stream in flight');
  });

  it('lets in-flight streams finish when closed with drainMs', async () => {
    const { held } = await withHeldStreams();
    const conn = await h.relay.connection();
    conn.open(1, CHAT);
    const res = await waitFor(() => held[0], 'the chat request');
    const closed = h.agent.close({ drainMs: 5_000 });
    conn.open(2, CHAT);
    expect(await conn.waitFrame('error', (f) => f.stream === 2)).toMatchObject({ code: 'busy' });
    res.end(sseChunk('bye') + SSE_DONE);
    await closed;
    expect(conn.framesOf(1).map((f) => f.type)).toEqual(['head', 'end']);
    await waitFor(() => conn.closed, 'the socket to close');
    expect(conn.closed?.code).toBe(1001);
  });
});

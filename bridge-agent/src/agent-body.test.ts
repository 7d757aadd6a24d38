/**
 * Protocol v2 request bodies, agent side, against a scripted (and hostile) relay: the body comes
 * in BODY frames after an `open` that announced its length, and reaches the bridge byte for
 * byte; BODY frames that do not fit the announcement are protocol errors.
 */
import { CloseCode, DataKind, encodeDataFrame, PROTOCOL_V2 } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk, startSse } from './test-support/fake-bridge.js';
import type { RelayConnection } from './test-support/fake-relay.js';
import { type Harness, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** An agent behind a relay that chose protocol 2, or (1) a v1 relay: its welcome names none. */
async function start(protocol = PROTOCOL_V2): Promise<RelayConnection> {
  h = await startHarness({ relay: { welcome: protocol === 1 ? {} : { protocol } } });
  h.bridge.chat = (_req, res) => {
    startSse(res);
    res.end(`${sseChunk('ok')}${SSE_DONE}`);
  };
  return h.relay.connection();
}

function openV2(conn: RelayConnection, stream: number, bodyBytes: number, model = 'gpt-5'): void {
  conn.send({
    type: 'open',
    stream,
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    bodyBytes,
    model,
  });
}

const body = (conn: RelayConnection, stream: number, payload: Buffer) =>
  conn.ws.send(encodeDataFrame(DataKind.BODY, stream, payload));

const chatBody = (content: string) =>
  Buffer.from(JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content }] }));

describe('protocol v2 request bodies (agent)', () => {
  it('offers protocols [1, 2] in hello', async () => {
    const conn = await start();
    expect(conn.hello?.protocols).toEqual([1, 2]);
  });

  it('passes a body that came in several BODY frames to the bridge byte for byte, with its length', async () => {
    const conn = await start();
    // Cut inside multi-byte characters: the pieces are not valid UTF-8 on their own.
    const bytes = chatBody(`日本語のテキスト 🌍 ${'ü'.repeat(5000)} “quotes” \\ "escapes"`);
    openV2(conn, 1, bytes.length);
    const cuts = [0, 7, 1001, 1002, bytes.length - 3, bytes.length];
    for (let i = 1; i < cuts.length; i++) body(conn, 1, bytes.subarray(cuts[i - 1], cuts[i]));
    await conn.waitFrame('end', (frame) => frame.stream === 1);
    const seen = h.bridge.chats[0]!;
    expect(Buffer.from(seen.body).equals(bytes)).toBe(true);
    expect(seen.headers['content-length']).toBe(String(bytes.length));
    expect(seen.headers['content-type']).toBe('application/json');
    expect(conn.violations).toEqual([]);
  });

  it('waits for the whole body before calling the bridge', async () => {
    const conn = await start();
    const bytes = chatBody('half');
    openV2(conn, 1, bytes.length);
    body(conn, 1, bytes.subarray(0, 10));
    // A control frame sent after the half body comes back once the agent has read both.
    expect((await conn.health('h1')).id).toBe('h1');
    expect(h.bridge.chats).toHaveLength(0);
    body(conn, 1, bytes.subarray(10));
    await conn.waitFrame('end', (frame) => frame.stream === 1);
    expect(h.bridge.chats).toHaveLength(1);
  });

  it('a body frame for a stream never opened closes the socket (1002)', async () => {
    const conn = await start();
    body(conn, 9, Buffer.from('{}'));
    await waitFor(() => conn.closed, 'the socket to close');
    expect(conn.closed).toEqual({
      code: CloseCode.PROTOCOL_ERROR,
      reason: 'body frame for stream 9, which was never opened',
    });
    expect(h.bridge.chats).toHaveLength(0);
  });

  it('more body bytes than announced fail the stream (protocol_error), not the socket', async () => {
    const conn = await start();
    const bytes = chatBody('too long');
    openV2(conn, 1, bytes.length - 1);
    body(conn, 1, bytes);
    const error = await conn.waitFrame('error', (frame) => frame.stream === 1);
    expect(error).toMatchObject({ code: 'protocol_error' });
    expect(error.message).toContain('more body than');
    expect(conn.closed).toBeUndefined();
    expect(h.bridge.chats).toHaveLength(0);
    // The socket still serves.
    const next = chatBody('next');
    openV2(conn, 2, next.length);
    body(conn, 2, next);
    await conn.waitFrame('end', (frame) => frame.stream === 2);
  });

  it('a body frame for a stream that announced none fails that stream', async () => {
    const conn = await start();
    conn.open(1, { model: 'gpt-5', messages: [{ role: 'user', content: 'inline' }] });
    body(conn, 1, Buffer.from('{}'));
    const error = await conn.waitFrame('error', (frame) => frame.stream === 1);
    expect(error).toMatchObject({ code: 'protocol_error' });
    expect(conn.closed).toBeUndefined();
  });

  it('body frames of a stream that already ended (refused as busy) are dropped', async () => {
    const conn = await start();
    conn.send({ type: 'drain', reason: 'test' });
    const bytes = chatBody('refused');
    openV2(conn, 1, bytes.length);
    body(conn, 1, bytes);
    expect(await conn.waitFrame('error', (frame) => frame.stream === 1)).toMatchObject({ code: 'busy' });
    expect((await conn.health('h2')).id).toBe('h2');
    expect(conn.closed).toBeUndefined();
  });

  it('on a protocol 1 socket an open with bodyBytes is refused and a binary frame closes the socket', async () => {
    const conn = await start(1);
    openV2(conn, 1, 10);
    expect(await conn.waitFrame('error', (frame) => frame.stream === 1)).toMatchObject({
      code: 'protocol_error',
    });
    body(conn, 1, Buffer.from('0123456789'));
    await waitFor(() => conn.closed, 'the socket to close');
    expect(conn.closed?.code).toBe(CloseCode.PROTOCOL_ERROR);
  });
});

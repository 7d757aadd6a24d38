/**
 * The routed model, agent side, against a scripted (and hostile) relay: the agent says
 * `routedModel` in its hello; a `rerouted` open gets `open.model` written into its body before
 * the bridge sees it; any other body reaches the bridge byte for byte; a rerouted body that is
 * not a JSON object fails its stream (protocol_error), never the agent.
 */
import { DataKind, encodeDataFrame } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import type { RelayConnection } from './test-support/fake-relay.js';
import { v2HarnessEachTest } from './test-support/harness.js';

const harness = v2HarnessEachTest();
const start = () => harness.start();

/** An open of `bytes`, sent as two BODY frames, naming `model` (rerouted or not). */
function request(
  conn: RelayConnection,
  stream: number,
  bytes: Buffer,
  model: string,
  rerouted: boolean,
): void {
  conn.send({
    type: 'open',
    stream,
    method: 'POST',
    path: '/v1/chat/completions',
    bodyBytes: bytes.length,
    model,
    ...(rerouted && { rerouted: true }),
  });
  const cut = Math.floor(bytes.length / 2);
  for (const piece of [bytes.subarray(0, cut), bytes.subarray(cut)])
    conn.ws.send(encodeDataFrame(DataKind.BODY, stream, piece));
}

const consumerBody = Buffer.from(
  '{ "model" : "fast",\n  "stream": true, "messages": [{"role":"user","content":"日本語 🌍 \\u00e9"}] }',
);

describe('the routed model (agent)', () => {
  it('says routedModel in its hello', async () => {
    const conn = await start();
    expect(conn.hello?.routedModel).toBe(true);
  });

  it('writes open.model into a rerouted body; the rest of the body is the consumer’s', async () => {
    const conn = await start();
    request(conn, 1, consumerBody, 'claude-haiku-4', true);
    await conn.waitFrame('end', (frame) => frame.stream === 1);
    const seen = harness.bridge.chats[0]!;
    const sent = JSON.parse(Buffer.from(seen.body).toString());
    expect(sent).toEqual({ ...JSON.parse(consumerBody.toString()), model: 'claude-haiku-4' });
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(sent))));
    expect(conn.violations).toEqual([]);
  });

  it('passes a body that is not rerouted byte for byte, whatever open.model says', async () => {
    const conn = await start();
    request(conn, 1, consumerBody, 'fast', false);
    await conn.waitFrame('end', (frame) => frame.stream === 1);
    expect(Buffer.from(harness.bridge.chats[0]!.body).equals(consumerBody)).toBe(true);
  });

  it('a rerouted body that is not a JSON object fails its stream; the socket serves on', async () => {
    const conn = await start();
    let stream = 0;
    for (const text of ['[{"model":"fast"}]', 'not json', '"fast"', '\u0000\u00ff']) {
      stream++;
      request(conn, stream, Buffer.from(text), 'gpt-5', true);
      const error = await conn.waitFrame('error', (frame) => frame.stream === stream);
      expect(error).toMatchObject({ code: 'protocol_error' });
      expect(error.message).toContain(`rerouted body of stream ${stream}`);
    }
    expect(harness.bridge.chats).toHaveLength(0);
    expect(conn.closed).toBeUndefined();
    request(conn, 9, consumerBody, 'gpt-5', true);
    await conn.waitFrame('end', (frame) => frame.stream === 9);
    expect(JSON.parse(Buffer.from(harness.bridge.chats[0]!.body).toString()).model).toBe('gpt-5');
  });

  it('a rerouted open without a BODY-frame body or a model is refused as a protocol error', async () => {
    const conn = await start();
    const inline = { model: 'fast', messages: [{ role: 'user', content: 'inline' }] };
    conn.send({
      type: 'open',
      stream: 1,
      method: 'POST',
      path: '/v1/chat/completions',
      body: inline,
      rerouted: true,
    });
    conn.send({
      type: 'open',
      stream: 2,
      method: 'POST',
      path: '/v1/chat/completions',
      bodyBytes: 2,
      rerouted: true,
    });
    for (const stream of [1, 2]) {
      const error = await conn.waitFrame('error', (frame) => frame.stream === stream);
      expect(error).toMatchObject({ code: 'protocol_error' });
      expect(error.message).toContain('rerouted without bodyBytes and model');
    }
    expect(harness.bridge.chats).toHaveLength(0);
  });
});

/**
 * A hostile relay naming requests the front-ends never send: each is a protocol error on its
 * stream and never reaches the bridge, whose every request is recorded; the socket and the
 * agent's other streams carry on.
 */
import { DataKind, encodeDataFrame } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { CHAT, v2HarnessEachTest } from './test-support/harness.js';

const harness = v2HarnessEachTest();
const start = () => harness.start();

/** Paths a relay could name to reach more of the owner's bridge than its chat completions. */
const HOSTILE_POSTS = [
  '/v1/../internal/update_available_models',
  '/v1/%2e%2e/internal/request_model_attempt',
  '/v1/%2E%2E%2Finternal',
  '/v1//evil.example/steal',
  '/v1/chat/completions/../../internal',
  '/v1/chat/completions?api_key=x',
  '/v1/chat/completions#x',
  '/v1/Chat/Completions',
  '/v1/chat/completions/',
  '/v1/chat/completions\r\nX-Injected: 1',
  '/v1/models',
  '/internal/update_available_models',
  '/',
  `/v1/${'a'.repeat(2000)}`,
];
const HOSTILE: Array<{ method: 'GET' | 'POST'; path: string }> = [
  ...HOSTILE_POSTS.map((path) => ({ method: 'POST' as const, path })),
  { method: 'GET', path: '/v1/chat/completions' },
  { method: 'GET', path: '/v1/models' },
];

describe('the requests the agent forwards', () => {
  it('refuses every request outside the allow-list as a protocol error, and the bridge sees none', async () => {
    const conn = await start();
    const before = harness.bridge.requests.length;
    let stream = 0;
    for (const { method, path } of HOSTILE) {
      conn.send({ type: 'open', stream: ++stream, method, path, headers: {}, body: CHAT });
    }
    for (let id = 1; id <= stream; id++) {
      const error = await conn.waitFrame('error', (f) => f.stream === id);
      expect(error.code).toBe('protocol_error');
      expect(error.message).toContain('POST /v1/chat/completions');
      // The quoted path is bounded and escaped: no raw line break reaches the relay's logs.
      expect(error.message.length).toBeLessThan(400);
      expect(error.message).not.toMatch(/[\r\n]/);
    }
    // A good request on the same socket after them is served: the socket is intact.
    conn.open(++stream, CHAT);
    await conn.waitFrame('end', (f) => f.stream === stream);
    const reached = harness.bridge.requests
      .slice(before)
      .filter((r) => r.path !== '/v1/models' || r.method !== 'GET');
    expect(reached.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/chat/completions']);
    expect(conn.violations).toEqual([]);
    expect(conn.closed).toBeUndefined();
  });

  it('refuses a v2 open before its body arrives; the late body frames are dropped, the socket stays', async () => {
    const conn = await start();
    const body = Buffer.from(JSON.stringify(CHAT));
    conn.send({
      type: 'open',
      stream: 1,
      method: 'POST',
      path: '/v1/../internal/update_available_models',
      headers: { 'content-type': 'application/json' },
      bodyBytes: body.length,
    });
    expect(await conn.waitFrame('error', (f) => f.stream === 1)).toMatchObject({ code: 'protocol_error' });
    conn.ws.send(encodeDataFrame(DataKind.BODY, 1, body));
    conn.open(2, CHAT);
    await conn.waitFrame('end', (f) => f.stream === 2);
    expect(harness.bridge.requests.some((r) => r.path.includes('internal'))).toBe(false);
    expect(conn.closed).toBeUndefined();
  });
});

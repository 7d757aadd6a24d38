import { describe, expect, it } from 'vitest';
import { connectRawAgent } from './support/raw-agent.js';
import { readRest } from './support/read-rest.js';
import { startTestRelay } from './support/relay.js';
import { upgradeAnswer } from './support/upgrade-status.js';

const upgradeStatus = async (url: string, headers: Record<string, string>, protocol?: string) =>
  (await upgradeAnswer(url, headers, protocol)).status;

async function chat(url: string, key: string, body: unknown) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const hello = { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], stream: true };

describe('agent handshake', () => {
  it('refuses a bad or missing token with 401 before upgrading, a missing subprotocol with 426', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    expect(await upgradeStatus(relay.url, {})).toBe(401);
    expect(await upgradeStatus(relay.url, { authorization: 'Bearer art_wrong' })).toBe(401);
    expect(await upgradeStatus(relay.url, { authorization: `Bearer ${token}` }, 'other.v9')).toBe(426);
    expect(relay.hub.sessions.size).toBe(0);
  });

  it('welcomes a valid agent and lists it', async () => {
    const relay = await startTestRelay();
    const { token, id } = await relay.createClient();
    const agent = await connectRawAgent(relay.url, token);
    const welcome = agent.frames.find((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({ type: 'welcome', streamWindow: relay.config.streamWindow });
    const { json } = await relay.admin('GET', '/api/agents');
    expect(json.agents).toHaveLength(1);
    expect(json.agents[0]).toMatchObject({ client_id: id, models: ['gpt-5'], ready: true, in_flight: 0 });
  });
});

describe('streams through a raw agent', () => {
  it('copies head and data bytes to the consumer untouched', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, token);
    const response = chat(relay.url, key, hello);
    const open = await agent.next('open');
    expect(open).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: hello });
    agent.send({
      type: 'head',
      stream: open.stream,
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'set-cookie': 'x=1' },
    });
    const body = Buffer.from('data: {"a": "你好"}\n\ndata: [DONE]\n\n');
    agent.data(open.stream, body.subarray(0, 13)); // splits the multi-byte character
    agent.data(open.stream, body.subarray(13));
    agent.end(open.stream);
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('ends the SSE stream with an error event when the agent dies after the first byte', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, token);
    const response = chat(relay.url, key, hello);
    const open = await agent.next('open');
    agent.head(open.stream, 'text/event-stream');
    agent.data(open.stream, 'data: {"partial": true}\n\n');
    const res = await response;
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('data: {"partial": true}\n\n');
    agent.ws.terminate();
    const rest = await readRest(reader);
    expect(rest).toMatch(
      /^data: \{"error":\{"message":".*","type":"api_error","param":null,"code":"agent_unavailable"\}\}\n\n$/,
    );
  });

  it('retries on another agent when the first fails before the first byte', async () => {
    const relay = await startTestRelay({ loadBalancing: 'round_robin' });
    const { key } = await relay.createKey();
    const a = await connectRawAgent(relay.url, (await relay.createClient('a')).token);
    const b = await connectRawAgent(relay.url, (await relay.createClient('b')).token);
    const response = chat(relay.url, key, { ...hello, stream: false });
    const openA = await a.next('open');
    a.send({
      type: 'error',
      stream: openA.stream,
      code: 'upstream_unavailable',
      message: 'tab closed',
      status: 503,
    });
    const openB = await b.next('open');
    b.head(openB.stream, 'application/json');
    b.data(openB.stream, '{"ok": true}');
    b.end(openB.stream);
    const res = await response;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"ok": true}');
  });

  it('maps an upstream rejection to its 4xx and does not retry it', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const a = await connectRawAgent(relay.url, (await relay.createClient('a')).token);
    await connectRawAgent(relay.url, (await relay.createClient('b')).token);
    const response = chat(relay.url, key, hello);
    const open = await a.next('open');
    a.send({
      type: 'error',
      stream: open.stream,
      code: 'upstream_rejected',
      message: 'attachment too large',
      status: 413,
    });
    const res = await response;
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      code: 'upstream_rejected',
      type: 'invalid_request_error',
    });
  });

  it('cancels the agent stream when the consumer disconnects', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
    const abort = new AbortController();
    const response = fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(hello),
      signal: abort.signal,
    });
    const open = await agent.next('open');
    agent.head(open.stream, 'text/event-stream');
    agent.data(open.stream, 'data: {}\n\n');
    await response;
    abort.abort();
    const cancel = await agent.next('cancel');
    expect(cancel.stream).toBe(open.stream);
  });
});

describe('protocol violations close only the offending socket', () => {
  const cases: Array<
    [string, (agent: Awaited<ReturnType<typeof connectRawAgent>>, stream: number) => void, RegExp]
  > = [
    ['garbage text', (a) => a.send('not json at all'), /not JSON/],
    ['an unknown frame type', (a) => a.send({ type: 'bogus' }), /invalid control frame/],
    ['a short binary frame', (a) => a.ws.send(Buffer.from([1, 0])), /malformed data frame/],
    // The reason names the header: 2- and 4-byte characters put its 123-byte cut mid-character,
    // which once threw out of the message handler and killed the relay process.
    [
      'a head whose bad header has a multi-byte name',
      (a, s) => a.send({ type: 'head', stream: s, status: 200, headers: { [`a${'é'.repeat(70)}`]: 1 } }),
      /invalid control frame at headers/,
    ],
    [
      'a head whose bad header has an emoji name',
      (a, s) => a.send({ type: 'head', stream: s, status: 200, headers: { ['🦄'.repeat(40)]: null } }),
      /invalid control frame at headers/,
    ],
    ['data for a stream never opened', (a, s) => a.data(s + 1000, 'x'), /never opened/],
    ['data before head', (a, s) => a.data(s, 'x'), /before head/],
    [
      'more data than its credit',
      (a, s) => {
        a.send({ type: 'head', stream: s, status: 200, headers: {} });
        a.data(s, Buffer.alloc(16 * 1024));
        a.data(s, Buffer.alloc(16 * 1024 + 1));
      },
      /exceeded its credit/,
    ],
  ];

  for (const [name, misbehave, reason] of cases) {
    it(`${name}: close 1002 with a reason, the consumer gets an error, the relay keeps serving`, async () => {
      const relay = await startTestRelay({ streamWindow: 32 * 1024 });
      const { key } = await relay.createKey();
      const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
      const response = chat(relay.url, key, hello);
      const open = await agent.next('open');
      misbehave(agent, open.stream);
      const closed = await agent.closed;
      expect(closed.code).toBe(1002);
      expect(closed.reason).toMatch(reason);
      expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
      expect(closed.reason).not.toContain('\uFFFD');
      const res = await response;
      // Before the first byte: a 5xx. After it (head already sent): an error event ends the body.
      if (res.status === 200) expect(await res.text()).toMatch(/data: \{"error":/);
      else expect(res.status).toBeGreaterThanOrEqual(500);
      expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    });
  }

  it('an oversized frame closes the socket with 1009', async () => {
    const relay = await startTestRelay();
    const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
    agent.ws.send(Buffer.alloc(2 * 1024 * 1024));
    expect((await agent.closed).code).toBe(1009);
    await expect.poll(() => relay.hub.sessions.size).toBe(0);
  });
});

describe('heartbeat', () => {
  it('terminates an agent that stops answering pings after two missed heartbeats', async () => {
    const relay = await startTestRelay({ heartbeatMs: 40 });
    const agent = await connectRawAgent(relay.url, (await relay.createClient()).token, { autoPong: false });
    const started = Date.now();
    const closed = await agent.closed;
    expect(closed.code === 4000 || closed.code === 1006).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(relay.hub.sessions.size).toBe(0);
  });

  it('keeps an agent that answers pings', async () => {
    const relay = await startTestRelay({ heartbeatMs: 20 });
    await connectRawAgent(relay.url, (await relay.createClient()).token);
    const session = relay.hub.list()[0]!;
    await expect.poll(() => session.lastHeartbeatAt, { timeout: 2000 }).toBeDefined();
    // Several intervals pass with pongs flowing: still connected.
    const seen = session.lastHeartbeatAt!.getTime();
    await expect.poll(() => session.lastHeartbeatAt!.getTime() > seen + 60, { timeout: 2000 }).toBe(true);
    expect(relay.hub.sessions.size).toBe(1);
  });
});

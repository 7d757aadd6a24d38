/**
 * A valid but malicious agent (a bridge owner running modified code) against the relay: it may
 * not touch another agent's streams, nor put anything but the relay's own headers or a final
 * status into a consumer's response. Complements test/relay-protocol.test.ts (garbage frames,
 * credit, 1009) and test/hardening.test.ts (identity claims, agents per client).
 */
import { describe, expect, it } from 'vitest';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';

const chatBody = (stream: boolean) => ({
  model: 'gpt-5',
  stream,
  messages: [{ role: 'user', content: 'hi' }],
});

function chat(url: string, key: string, stream: boolean) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(stream)),
  });
}

/** A relay, one raw agent and a streamed chat it was asked to open; `response`: its status, or why fetch failed. */
async function streamOpened() {
  const relay = await startTestRelay();
  const { key } = await relay.createKey();
  const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
  const response = chat(relay.url, key, true).then(
    (res) => res.status,
    (error: unknown) => `fetch failed: ${(error as Error).cause ?? error}`,
  );
  const open = await agent.next('open');
  return { relay, key, agent, response, open };
}

/** Headers a hostile agent would love the consumer (or a proxy in front) to see. */
const HOSTILE_HEADERS: Record<string, string> = {
  'set-cookie': 'session=stolen; Path=/',
  location: 'https://evil.example/',
  connection: 'close',
  'transfer-encoding': 'chunked',
  'content-length': '1',
  upgrade: 'websocket',
  'keep-alive': 'timeout=999',
  'access-control-allow-origin': '*',
  'www-authenticate': 'Basic realm="relay"',
  refresh: '0; url=https://evil.example/',
  'x-request-id': 'forged',
  'x-session-pin': 'forged',
  'cache-control': 'public, max-age=31536000',
  'retry-after': '99999',
  'x-accel-redirect': '/internal',
};

describe('a hostile agent', () => {
  it('cannot write into another agent’s stream: frames for ids it was never given close its socket (1002)', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const honest = await connectRawAgent(relay.url, (await relay.createClient('honest')).token);
    const response = chat(relay.url, key, true);
    const open = await honest.next('open');
    // Now the hostile agent joins (so routing cannot pick it) and aims at the honest stream's id.
    const hostile = await connectRawAgent(relay.url, (await relay.createClient('hostile')).token, {
      hello: { models: ['other-model'] },
    });
    honest.send({
      type: 'head',
      stream: open.stream,
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
    });
    honest.data(open.stream, 'data: {"honest": 1}\n\n');
    hostile.data(open.stream, 'data: {"injected": true}\n\n');
    hostile.send({ type: 'end', stream: open.stream });
    const closed = await hostile.closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toMatch(/never opened/);
    honest.data(open.stream, 'data: [DONE]\n\n');
    honest.send({ type: 'end', stream: open.stream });
    const res = await response;
    expect(await res.text()).toBe('data: {"honest": 1}\n\ndata: [DONE]\n\n');
  });

  for (const stream of [true, false]) {
    it(`cannot set response headers (${stream ? 'stream' : 'JSON'}): only the relay’s own reach the consumer`, async () => {
      const relay = await startTestRelay();
      const { key } = await relay.createKey();
      const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
      const response = chat(relay.url, key, stream);
      const open = await agent.next('open');
      agent.send({
        type: 'head',
        stream: open.stream,
        status: 200,
        headers: {
          ...HOSTILE_HEADERS,
          // CR/LF in the one header that may pass: refused whole, the relay's default stands.
          'content-type': `${stream ? 'text/event-stream' : 'application/json'}\r\nset-cookie: injected=1`,
          'x-evil\r\nset-cookie': 'injected=2',
        },
      });
      agent.data(open.stream, stream ? 'data: {}\n\n' : '{}');
      agent.send({ type: 'end', stream: open.stream });
      const res = await response;
      expect(res.status).toBe(200);
      const names = [...res.headers.keys()];
      const expected = stream
        ? [
            'cache-control',
            'connection',
            'content-type',
            'date',
            'keep-alive',
            'transfer-encoding',
            'x-accel-buffering',
            'x-request-id',
          ]
        : ['connection', 'content-type', 'date', 'keep-alive', 'transfer-encoding', 'x-request-id'];
      // Rate-limit headers, when the relay sends them, are its own too.
      expect(names.filter((n) => !n.startsWith('x-ratelimit-'))).toEqual(expected);
      expect(res.headers.get('content-type')).toBe(
        stream ? 'text/event-stream; charset=utf-8' : 'application/json',
      );
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(res.headers.get('connection')).toBe('keep-alive');
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      if (stream) expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(stream ? 'data: {}\n\n' : '{}');
    });
  }

  for (const status of [100, 101, 103]) {
    it(`cannot answer with an informational status (${status}): the socket closes with 1002, the consumer gets a 502`, async () => {
      // A 1xx written as the final answer leaves the consumer's connection in an undefined state
      // (a 101 can switch a proxy in front into tunnel mode). Only final statuses may pass.
      const { agent, response, open } = await streamOpened();
      agent.send({
        type: 'head',
        stream: open.stream,
        status,
        headers: { 'content-type': 'text/event-stream' },
      });
      agent.data(open.stream, 'data: {}\n\n');
      agent.send({ type: 'end', stream: open.stream });
      const closed = await Promise.race([
        agent.closed.then((c) => c.code),
        new Promise((resolve) => setTimeout(() => resolve('still open after 2 s'), 2000)),
      ]);
      expect(closed).toBe(1002);
      expect(await response).toBe(502);
    });
  }

  it('cannot smuggle invalid UTF-8 in a control frame: the socket closes with 1007, the consumer gets a 502', async () => {
    // ws validates every text frame (skipUTF8Validation stays off): decoded leniently, the bytes
    // would become U+FFFD and could pass JSON and the schema into a header the consumer sees.
    const { relay, key, agent, response, open } = await streamOpened();
    const frame = { type: 'head', stream: open.stream, status: 200, headers: { 'x-a': '@' } };
    const [before, after] = JSON.stringify(frame).split('@') as [string, string];
    // A lone continuation byte and an overlong NUL where the header value goes: not UTF-8.
    const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0x80, 0xc0, 0x80]), Buffer.from(after)]);
    agent.ws.send(bytes, { binary: false });
    const closed = await agent.closed;
    expect(closed.code).toBe(1007);
    expect(await response).toBe(502);
    // The relay is still up: another agent serves the next request.
    const next = await connectRawAgent(relay.url, (await relay.createClient('next')).token);
    const second = chat(relay.url, key, true);
    const reopened = await next.next('open');
    next.head(reopened.stream, 'text/event-stream');
    next.data(reopened.stream, 'data: {}\n\n');
    next.end(reopened.stream);
    const res = await second;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('data: {}\n\n');
  });

  for (const stream of [false, true]) {
    it(`cannot bill a consumer for tokens it never relayed (${stream ? 'stream with include_usage' : 'JSON'})`, async () => {
      // The agent's `end.usage` feeds usage reports, prices and tokens_per_day budgets: a modified
      // agent reporting a million tokens for a two-word answer must not be believed.
      const relay = await startTestRelay();
      const { id, key } = await relay.createKey();
      const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
      const response = fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...chatBody(stream),
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      });
      const open = await agent.next('open');
      agent.send({
        type: 'head',
        stream: open.stream,
        status: 200,
        headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
      });
      agent.data(
        open.stream,
        stream
          ? 'data: {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "hi there"}}]}\n\ndata: [DONE]\n\n'
          : '{"choices": [{"message": {"role": "assistant", "content": "hi there"}}]}',
      );
      agent.send({
        type: 'end',
        stream: open.stream,
        usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 },
      });
      const res = await response;
      expect(res.status).toBe(200);
      const text = await res.text();
      const totals = async () => {
        const { json } = await relay.admin('GET', `/api/usage?key=${id}&group_by=`);
        return json.totals as { requests: number; prompt_tokens: number; completion_tokens: number };
      };
      await expect.poll(async () => (await totals()).requests, { timeout: 5000 }).toBe(1);
      const recorded = await totals();
      // The prompt was "hi" and the answer about 100 bytes: a token is at least a character, so
      // anything above that is the agent's word alone.
      expect(recorded.prompt_tokens).toBeLessThanOrEqual(2);
      expect(recorded.completion_tokens).toBeLessThan(200);
      // Nor does the consumer's own usage chunk repeat the agent's claim.
      expect(text).not.toContain('1000000');
    });
  }
});

/**
 * The consumer hot path is served by the node fast path (relay/src/consumer/fast-path.ts) and, with
 * CORS configured, by Hono. The same request must get the same answer from both: status, body and
 * headers (but the per-request id and date), so the two paths cannot drift apart.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from './support/relay.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** One raw HTTP exchange on a fresh connection (node's client: every header as sent). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What must be equal: everything but the request id (checked for shape) and the date. */
function comparable(answer: Answer) {
  const { 'x-request-id': requestId, date, ...headers } = answer.headers;
  expect(requestId).toMatch(/^req_/);
  return { status: answer.status, headers, body: JSON.parse(answer.body) as unknown };
}

type Case = {
  name: string;
  method: string;
  path: string;
  /** Headers beyond content-type; `key` is replaced by each relay's own valid key. */
  headers: Record<string, string>;
  body?: string;
  status: number;
};

const chat = JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] });

const cases: Case[] = [
  { name: 'no key', method: 'POST', path: '/v1/chat/completions', headers: {}, body: chat, status: 401 },
  {
    name: 'unknown key',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-ar-nope' },
    body: chat,
    status: 401,
  },
  {
    name: 'unknown x-api-key, with a query string',
    method: 'POST',
    path: '/v1/chat/completions?x=1',
    headers: { 'x-api-key': 'sk-ar-nöpe' },
    body: chat,
    status: 401,
  },
  {
    name: 'bad JSON',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { key: '' },
    body: '{"model": ',
    status: 400,
  },
  {
    name: 'empty body',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { key: '' },
    body: '',
    status: 400,
  },
  {
    name: 'invalid chat request',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { key: '' },
    body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'wizard', content: 'hi' }] }),
    status: 400,
  },
  {
    name: 'bad x-session-name',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { key: '', 'x-session-name': 'spaces are not allowed' },
    body: chat,
    status: 400,
  },
  {
    name: 'too large body',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { key: '' },
    body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'é'.repeat(2048) }] }),
    status: 413,
  },
  { name: 'models without a key', method: 'GET', path: '/v1/models', headers: {}, status: 401 },
  { name: 'models', method: 'GET', path: '/v1/models', headers: { key: '' }, status: 200 },
];

async function relayWithKey(consumerFastPath: boolean): Promise<{ relay: TestRelay; key: string }> {
  const relay = await startTestRelay({ consumerFastPath, maxBodyBytes: 2048 });
  const { key } = await relay.createKey();
  return { relay, key };
}

function ask(target: { relay: TestRelay; key: string }, c: Case): Promise<Answer> {
  const { key: _, ...headers } = c.headers;
  if ('key' in c.headers) headers.authorization = `Bearer ${target.key}`;
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  return send(target.relay.url, c.method, c.path, headers, c.body);
}

describe('fast path and Hono path', () => {
  it('give the same status, body and headers for the same bad (or good) request', async () => {
    const [fast, hono] = await Promise.all([relayWithKey(true), relayWithKey(false)]);
    for (const c of cases) {
      const [a, b] = await Promise.all([ask(fast, c), ask(hono, c)]);
      expect(a.status, c.name).toBe(c.status);
      expect(comparable(a), c.name).toEqual(comparable(b));
    }
  });

  it('both close the connection after refusing a too large body', async () => {
    const [fast, hono] = await Promise.all([relayWithKey(true), relayWithKey(false)]);
    const tooLarge = cases.find((c) => c.status === 413)!;
    for (const target of [fast, hono]) {
      const answer = await ask(target, tooLarge);
      expect(answer.headers.connection).toBe('close');
    }
  });

  it('both count the answer under the route in the HTTP metrics', async () => {
    const [fast, hono] = await Promise.all([relayWithKey(true), relayWithKey(false)]);
    const lines = async (target: { relay: TestRelay; key: string }) => {
      for (const c of cases) await ask(target, c);
      const metrics = await fetch(`${target.relay.url}/metrics`).then((res) => res.text());
      return (
        metrics
          .split('\n')
          .filter((line) => line.startsWith('arena_relay_http_requests_total{') && line.includes('/v1/'))
          // Each relay labels its series with its own id.
          .map((line) => line.replace(/,?relay="[^"]*"/, ''))
          .sort()
      );
    };
    const [a, b] = await Promise.all([lines(fast), lines(hono)]);
    expect(a).toContain(
      'arena_relay_http_requests_total{method="POST",route="/v1/chat/completions",status="401"} 3',
    );
    expect(a).toEqual(b);
  });
});

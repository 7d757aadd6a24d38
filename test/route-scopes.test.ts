/**
 * Scopes are a table per route (relay/src/consumer/route-scopes.ts): a key with one scope reaches that
 * route and only that one, on the node fast path and through Hono's routes alike. "Reached" is a
 * 503 no_agents_available (529 on Messages, or the models list): the key passed the scope check and the request
 * went on to find an agent; "refused" is the 403 permission_denied naming the missing scope.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKeyScope } from '../relay/src/store/store.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const ROUTES: Array<{ scope: ApiKeyScope; method: string; path: string; body?: object }> = [
  {
    scope: 'chat',
    method: 'POST',
    path: '/v1/chat/completions',
    body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  },
  {
    scope: 'messages',
    method: 'POST',
    path: '/v1/messages',
    body: { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
  },
  { scope: 'responses', method: 'POST', path: '/v1/responses', body: { model: 'm', input: 'hi' } },
  { scope: 'models', method: 'GET', path: '/v1/models' },
  { scope: 'images', method: 'POST', path: '/v1/images/generations', body: { model: 'm', prompt: 'a cat' } },
];

async function call(relay: TestRelay, key: string, route: (typeof ROUTES)[number]) {
  const res = await fetch(relay.url + route.path, {
    method: route.method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: route.body ? JSON.stringify(route.body) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

async function keyWith(relay: TestRelay, scopes: ApiKeyScope[]): Promise<string> {
  const { status, json } = await relay.admin('POST', '/api/keys', { name: scopes.join('+'), scopes });
  expect(status).toBe(201);
  expect(json.api_key.scopes).toEqual(scopes);
  return json.key as string;
}

describe.each([
  ['the node fast path', true],
  ['Hono routes only', false],
])('route scopes through %s', (_name, consumerFastPath) => {
  it('each route needs its own scope and no other', async () => {
    const relay = await startTestRelay({ consumerFastPath });
    for (const owned of ROUTES) {
      const key = await keyWith(relay, [owned.scope]);
      for (const route of ROUTES) {
        const { status, text } = await call(relay, key, route);
        if (route === owned) {
          expect([200, 503, 529], `${owned.scope} key on ${route.path}: ${text}`).toContain(status);
          if (status !== 200) expect(text).toMatch(/no_agents_available|overloaded/);
        } else {
          expect(status, `${owned.scope} key on ${route.path}: ${text}`).toBe(403);
          expect(text).toContain(`'${route.scope}' scope`);
        }
      }
    }
  });
});

describe('route scopes in the admin API', () => {
  it('a new key gets every consumer scope by default, and unknown scope names are refused', async () => {
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/keys', { name: 'default' });
    expect(created.json.api_key.scopes).toEqual(['chat', 'messages', 'responses', 'models', 'images']);
    for (const route of ROUTES)
      expect([200, 503, 529]).toContain((await call(relay, created.json.key, route)).status);
    const bad = await relay.admin('POST', '/api/keys', { name: 'bad', scopes: ['chat', 'everything'] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('scopes.1');
  });
});

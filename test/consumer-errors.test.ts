/** Every refusal a consumer can meet before any agent is involved: OpenAI error objects and statuses. */
import { describe, expect, it } from 'vitest';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';

const valid = { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] };

async function post(
  url: string,
  key: string | undefined,
  body: string | object,
  extra: Record<string, string> = {},
) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...extra,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as { error: Record<string, unknown> } };
}

describe('consumer errors', () => {
  it('401 invalid_api_key for a missing, malformed or unknown key', async () => {
    const relay = await startTestRelay();
    for (const key of [undefined, 'sk-ar-nope']) {
      const { res, json } = await post(relay.url, key, valid);
      expect(res.status).toBe(401);
      expect(json.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        param: null,
      });
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    }
  });

  it('400 invalid_json for a body that is not JSON', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const { res, json } = await post(relay.url, key, '{"model": ');
    expect(res.status).toBe(400);
    expect(json.error).toMatchObject({ code: 'invalid_json', type: 'invalid_request_error' });
  });

  it.each([
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'gpt-5', messages: [] }, 'messages'],
    [{ model: 'gpt-5', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
  ])('400 with param for a schema violation (%j → %s)', async (body, param) => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const { res, json } = await post(relay.url, key, body);
    expect(res.status).toBe(400);
    expect(json.error).toMatchObject({ code: 'invalid_request', param });
  });

  it('413 for a body over the limit', async () => {
    const relay = await startTestRelay({ maxBodyBytes: 1024 });
    const { key } = await relay.createKey();
    const big = { ...valid, messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
    const { res, json } = await post(relay.url, key, big);
    expect(res.status).toBe(413);
    expect(json.error.code).toBe('request_too_large');
  });

  it('503 with retry-after when no agent is connected', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const { res, json } = await post(relay.url, key, valid);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(json.error).toMatchObject({ code: 'no_agents_available', type: 'server_error' });
  });

  it('404 model_not_found when no connected agent advertises the model', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    await connectRawAgent(relay.url, (await relay.createClient()).token, { hello: { models: ['gpt-5'] } });
    const { res, json } = await post(relay.url, key, { ...valid, model: 'no-such-model' });
    expect(res.status).toBe(404);
    expect(json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('a revoked key stops working at once', async () => {
    const relay = await startTestRelay();
    const { key, id } = await relay.createKey();
    const before = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(before.status).toBe(200);
    expect((await relay.admin('DELETE', `/api/keys/${id}`)).status).toBe(200);
    const after = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(after.status).toBe(401);
    expect((await relay.admin('DELETE', `/api/keys/${id}`)).status).toBe(404);
  });

  it('unknown routes answer an OpenAI-shaped 404', async () => {
    const relay = await startTestRelay();
    const res = await fetch(`${relay.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found', param: null } });
  });

  it('GET /v1/models lists the union of connected agents models', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    await connectRawAgent(relay.url, (await relay.createClient('a')).token, {
      hello: { models: ['gpt-5', 'b'] },
    });
    await connectRawAgent(relay.url, (await relay.createClient('b')).token, {
      hello: { models: ['a', 'b'] },
    });
    const res = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    const json = (await res.json()) as { object: string; data: Array<{ id: string; object: string }> };
    expect(json.object).toBe('list');
    expect(json.data.map((m) => m.id)).toEqual(['a', 'b', 'gpt-5']);
    expect(json.data[0]).toMatchObject({ object: 'model', owned_by: 'arena-relay' });
  });
});

describe('admin API', () => {
  it('refuses requests without the admin token', async () => {
    const relay = await startTestRelay();
    const res = await fetch(`${relay.url}/api/clients`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_token');
  });

  it('registers a client: 201 with the token shown once, never stored or listed', async () => {
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/clients', { name: 'alice', email: 'alice@example.com' });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^art_[0-9A-Za-z]{40}$/);
    expect(created.json.client).toMatchObject({
      name: 'alice',
      email: 'alice@example.com',
      status: 'pending',
    });
    const listed = await relay.admin('GET', '/api/clients');
    expect(JSON.stringify(listed.json)).not.toContain(created.json.token);
    expect(listed.json.clients).toHaveLength(1);
  });

  it('lists every problem of a bad body in one 400', async () => {
    const relay = await startTestRelay();
    const { status, json } = await relay.admin('POST', '/api/clients', { name: '', email: 'nope', extra: 1 });
    expect(status).toBe(400);
    expect(json.error.message).toMatch(/name/);
    expect(json.error.message).toMatch(/email/);
    expect(json.error.message).toMatch(/extra/);
  });
});

describe('key scopes and allowed models on consumer routes', () => {
  it('403 for a key without the scope, and only allowed models are listed or served', async () => {
    const relay = await startTestRelay();
    await connectRawAgent(relay.url, (await relay.createClient()).token, {
      hello: { models: ['gpt-5', 'other'] },
    });
    const adminOnly = await relay.admin('POST', '/api/keys', { name: 'ops', scopes: ['admin'] });
    const models = await fetch(`${relay.url}/v1/models`, {
      headers: { authorization: `Bearer ${adminOnly.json.key}` },
    });
    expect(models.status).toBe(403);
    const chatRes = await post(relay.url, adminOnly.json.key, valid);
    expect(chatRes.res.status).toBe(403);
    expect(chatRes.json.error).toMatchObject({ code: 'permission_denied', type: 'permission_error' });

    const limited = await relay.admin('POST', '/api/keys', { name: 'limited', allowed_models: ['other'] });
    expect(limited.status).toBe(201);
    const listed = await fetch(`${relay.url}/v1/models`, {
      headers: { authorization: `Bearer ${limited.json.key}` },
    });
    expect(((await listed.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual([
      'other',
    ]);
    const refused = await post(relay.url, limited.json.key, valid);
    expect(refused.res.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'permission_denied', param: 'model' });
  });

  it('the admin token is not an API key', async () => {
    const relay = await startTestRelay();
    const { res, json } = await post(relay.url, relay.adminToken, valid);
    expect(res.status).toBe(401);
    expect(json.error.code).toBe('invalid_api_key');
  });
});

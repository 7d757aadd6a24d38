/**
 * The clients and keys admin API against a real relay: shapes, PATCH semantics, validation,
 * conflicts, and the effect of disable / delete / rotate on live agent sockets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_CONNECT_PATH, CloseCode, SUBPROTOCOL } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hashSecret } from '../relay/src/store/secrets.js';
import { TOKEN_ROTATED_REASON } from '../relay/src/tunnel/token-retirement.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';

/** Attempts an agent upgrade; resolves with the HTTP status and error code of the refusal. */
function upgradeRefusal(url: string, token: string) {
  return new Promise<{ status: number; code: string }>((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + AGENT_CONNECT_PATH, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).error.code });
        ws.terminate();
      });
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly accepted'));
    });
    ws.on('error', () => {});
  });
}

const NO_LIMITS = { requests_per_minute: null, requests_per_day: null, max_concurrency: null };

describe('admin API: clients', () => {
  it('creates a client with every field; GET returns the same record with live stats', async () => {
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/clients', {
      name: 'Alice',
      email: 'alice@example.com',
      lmarena_bridge_url: 'http://127.0.0.1:5102',
      capabilities: ['chat', 'images'],
      rate_limit: { requests_per_minute: 30 },
      metadata: { region: 'eu' },
    });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^art_/);
    expect(created.json.client).toMatchObject({
      name: 'Alice',
      capabilities: ['chat', 'images'],
      rate_limit: { ...NO_LIMITS, requests_per_minute: 30 },
      status: 'pending',
      metadata: { region: 'eu' },
      total_requests: 0,
      successful_requests: 0,
      failed_requests: 0,
      avg_response_ms: null,
      health: 'unknown',
    });
    const got = await relay.admin('GET', `/api/clients/${created.json.client.id}`);
    // The same record, joined with what is live: no agent of it connected yet.
    expect(got).toEqual({
      status: 200,
      json: { client: { ...created.json.client, agents_connected: 0, agents_ready: 0 } },
    });
  });

  it('answers 409 conflict for a duplicate name, case-insensitively, on create and rename', async () => {
    const relay = await startTestRelay();
    await relay.createClient('Alice');
    const dup = await relay.admin('POST', '/api/clients', { name: 'alice' });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toMatchObject({ code: 'conflict', type: 'invalid_request_error', param: 'name' });
    const bob = await relay.createClient('Bob');
    const rename = await relay.admin('PATCH', `/api/clients/${bob.id}`, { name: 'ALICE' });
    expect(rename.status).toBe(409);
    expect(
      (await relay.admin('GET', '/api/clients')).json.clients.map((c: { name: string }) => c.name),
    ).toEqual(['Alice', 'Bob']);
  });

  it('PATCH changes only what it names; null clears', async () => {
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/clients', {
      name: 'c',
      email: 'c@example.com',
      rate_limit: { requests_per_minute: 5, max_concurrency: 2 },
    });
    const id = created.json.client.id;
    const patched = await relay.admin('PATCH', `/api/clients/${id}`, {
      email: null,
      rate_limit: { max_concurrency: null, requests_per_day: 100 },
      metadata: { a: 1 },
    });
    expect(patched.status).toBe(200);
    expect(patched.json.client).toEqual({
      ...created.json.client,
      email: null,
      rate_limit: { requests_per_minute: 5, requests_per_day: 100, max_concurrency: null },
      metadata: { a: 1 },
    });
  });

  it('lists every problem of a bad PATCH in one 400', async () => {
    const relay = await startTestRelay();
    const { id } = await relay.createClient();
    const { status, json } = await relay.admin('PATCH', `/api/clients/${id}`, {
      status: 'paused',
      email: 'nope',
      rate_limit: { requests_per_minute: -1 },
      lmarena_bridge_url: 'javascript:alert(1)',
      colour: 'red',
    });
    expect(status).toBe(400);
    expect(json.error.code).toBe('invalid_request');
    for (const field of [
      'status',
      'email',
      'rate_limit.requests_per_minute',
      'lmarena_bridge_url',
      'colour',
    ]) {
      expect(json.error.message).toContain(field);
    }
  });

  it('answers 404 not_found for unknown ids on every route', async () => {
    const relay = await startTestRelay();
    for (const [method, path, body] of [
      ['GET', '/api/clients/cl_nope', undefined],
      ['PATCH', '/api/clients/cl_nope', { name: 'x' }],
      ['DELETE', '/api/clients/cl_nope', undefined],
      ['POST', '/api/clients/cl_nope/rotate-token', undefined],
    ] as const) {
      const { status, json } = await relay.admin(method, path, body);
      expect(status, `${method} ${path}`).toBe(404);
      expect(json.error.code).toBe('not_found');
    }
  });

  it('disabling closes the live socket and refuses reconnects; re-enabling lets it back', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient();
    const agent = await connectRawAgent(relay.url, token);
    expect((await relay.admin('GET', `/api/clients/${id}`)).json.client.status).toBe('active');

    const disabled = await relay.admin('PATCH', `/api/clients/${id}`, { status: 'disabled' });
    expect(disabled.json.client.status).toBe('disabled');
    expect(await agent.closed).toEqual({ code: 1008, reason: 'client disabled' });
    expect(await upgradeRefusal(relay.url, token)).toEqual({ status: 401, code: 'client_disabled' });

    const enabled = await relay.admin('PATCH', `/api/clients/${id}`, { status: 'active' });
    expect(enabled.json.client.status).toBe('active');
    const back = await connectRawAgent(relay.url, token);
    expect(back.frames.some((f) => f.type === 'welcome')).toBe(true);
  });

  it('deleting closes the live socket, refuses the token and frees the name', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient('doomed');
    const agent = await connectRawAgent(relay.url, token);
    const deleted = await relay.admin('DELETE', `/api/clients/${id}`);
    expect(deleted).toEqual({ status: 200, json: { id, deleted: true } });
    expect((await agent.closed).code).toBe(1008);
    expect(await upgradeRefusal(relay.url, token)).toEqual({ status: 401, code: 'invalid_client_token' });
    expect((await relay.admin('GET', `/api/clients/${id}`)).status).toBe(404);
    expect((await relay.admin('DELETE', `/api/clients/${id}`)).status).toBe(404);
    expect((await relay.admin('POST', '/api/clients', { name: 'doomed' })).status).toBe(201);
  });

  it('rotating with the default grace keeps the old token and its socket; the answer says until when', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient();
    const agent = await connectRawAgent(relay.url, token);
    const before = Date.now();
    const rotated = await relay.admin('POST', `/api/clients/${id}/rotate-token`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.token_id).toBe(`tid_${hashSecret(rotated.json.token).slice(0, 12)}`);
    const until = Date.parse(rotated.json.previous_token_valid_until);
    expect(until - before).toBeGreaterThanOrEqual(relay.config.credentialGraceMs - 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(relay.config.credentialGraceMs);
    // The old token still connects, and the socket it holds was not closed.
    const again = await connectRawAgent(relay.url, token);
    expect(again.frames.some((f) => f.type === 'welcome')).toBe(true);
    const stillOpen = await Promise.race([agent.closed, Promise.resolve('open')]);
    expect(stillOpen).toBe('open');
    for (const bad of ['-1', '1.5', 'soon', '604801']) {
      const refused = await relay.admin('POST', `/api/clients/${id}/rotate-token?grace_seconds=${bad}`);
      expect(refused.status).toBe(400);
      expect(refused.json.error.param).toBe('grace_seconds');
    }
  });

  it('rotating the token with grace_seconds=0 shows the new one once, closes the socket and retires the old token', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient();
    const agent = await connectRawAgent(relay.url, token);
    const rotated = await relay.admin('POST', `/api/clients/${id}/rotate-token?grace_seconds=0`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.previous_token_valid_until).toBeNull();
    const fresh: string = rotated.json.token;
    expect(fresh).toMatch(/^art_[0-9A-Za-z]{40}$/);
    expect(fresh).not.toBe(token);
    expect(rotated.json.client).toMatchObject({ id, token_preview: `${fresh.slice(0, 10)}…` });
    expect(await agent.closed).toEqual({ code: CloseCode.TOKEN_ROTATED, reason: TOKEN_ROTATED_REASON });
    // Refused in words: a replaced token, not an unknown one.
    expect(await upgradeRefusal(relay.url, token)).toEqual({ status: 401, code: 'client_token_rotated' });
    expect(await upgradeRefusal(relay.url, 'art_never_issued')).toEqual({
      status: 401,
      code: 'invalid_client_token',
    });
    const back = await connectRawAgent(relay.url, fresh);
    expect(back.frames.some((f) => f.type === 'welcome')).toBe(true);

    // Shown once: never listed, never written to disk.
    const listed = JSON.stringify((await relay.admin('GET', '/api/clients')).json);
    expect(listed).not.toContain(fresh.slice(10));
    const raw = ['relay.db', 'relay.db-wal']
      .map((f) => join(relay.config.dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    expect(raw).not.toContain(fresh.slice(10));
    expect(raw).not.toContain(token.slice(10));
  });
});

describe('admin API: keys', () => {
  it('creates a key with every field: 201 {id, key, api_key}; GET by id returns the record', async () => {
    const relay = await startTestRelay();
    const expires = new Date(Date.now() + 86_400_000);
    const created = await relay.admin('POST', '/api/keys', {
      name: 'ci',
      scopes: ['chat', 'chat', 'models'],
      allowed_models: ['gpt-5'],
      expires_at: expires.toISOString().replace('Z', '+00:00'),
      limits: { requests_per_day: 1000, tokens_per_day: 50_000 },
    });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^sk-ar-[0-9A-Za-z]{40}$/);
    expect(created.json.id).toBe(created.json.api_key.id);
    expect(created.json.api_key).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'ci',
      preview: `${created.json.key.slice(0, 10)}…`,
      scopes: ['chat', 'models'],
      allowed_models: ['gpt-5'],
      expires_at: expires.toISOString(),
      limits: {
        requests_per_minute: null,
        requests_per_day: 1000,
        max_concurrency: null,
        tokens_per_day: 50_000,
      },
      created_at: expect.any(String),
      last_used_at: null,
      revoked: false,
    });
    expect(await relay.admin('GET', `/api/keys/${created.json.id}`)).toEqual({
      status: 200,
      json: { api_key: created.json.api_key },
    });
    const defaults = await relay.admin('POST', '/api/keys', { name: 'plain' });
    expect(defaults.json.api_key).toMatchObject({
      scopes: ['chat', 'messages', 'responses', 'models', 'images'],
      allowed_models: null,
      expires_at: null,
    });
    expect(JSON.stringify((await relay.admin('GET', '/api/keys')).json)).not.toContain(
      created.json.key.slice(10),
    );
  });

  it('lists every problem of a bad key body in one 400', async () => {
    const relay = await startTestRelay();
    const { status, json } = await relay.admin('POST', '/api/keys', {
      name: '',
      scopes: ['chat', 'root'],
      allowed_models: [],
      expires_at: '2001-01-01T00:00:00Z',
      limits: { tokens_per_day: 1.5 },
    });
    expect(status).toBe(400);
    for (const field of ['name', 'scopes.1', 'allowed_models', 'expires_at', 'limits.tokens_per_day']) {
      expect(json.error.message).toContain(field);
    }
    expect(json.error.message).toMatch(/must be in the future/);
  });

  it('PATCH merges limits, clears with null and refuses unknown ids', async () => {
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/keys', {
      name: 'k',
      allowed_models: ['a'],
      limits: { requests_per_minute: 10, max_concurrency: 2 },
    });
    const id = created.json.id;
    const patched = await relay.admin('PATCH', `/api/keys/${id}`, {
      name: 'k2',
      allowed_models: null,
      limits: { max_concurrency: null, tokens_per_day: 99 },
    });
    expect(patched.status).toBe(200);
    expect(patched.json.api_key).toEqual({
      ...created.json.api_key,
      name: 'k2',
      allowed_models: null,
      limits: { requests_per_minute: 10, requests_per_day: null, max_concurrency: null, tokens_per_day: 99 },
    });
    expect((await relay.admin('PATCH', '/api/keys/key_nope', { name: 'x' })).status).toBe(404);
    expect((await relay.admin('GET', '/api/keys/key_nope')).json.error.code).toBe('not_found');
  });

  it('DELETE revokes: {id, revoked: true}; the key stays readable, leaves the list, cannot change', async () => {
    const relay = await startTestRelay();
    const { id } = await relay.createKey();
    expect(await relay.admin('DELETE', `/api/keys/${id}`)).toEqual({
      status: 200,
      json: { id, revoked: true },
    });
    expect((await relay.admin('GET', `/api/keys/${id}`)).json.api_key.revoked).toBe(true);
    expect((await relay.admin('GET', '/api/keys')).json.keys).toEqual([]);
    const all = await relay.admin('GET', '/api/keys?include_revoked=true');
    expect(all.json.keys.map((k: { id: string }) => k.id)).toEqual([id]);
    expect((await relay.admin('PATCH', `/api/keys/${id}`, { name: 'x' })).status).toBe(404);
    expect((await relay.admin('DELETE', `/api/keys/${id}`)).status).toBe(404);
  });
});

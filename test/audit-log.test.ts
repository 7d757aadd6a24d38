/**
 * The operator audit log (`/api/audit`): every admin action recorded once it is answered, with
 * who (a fingerprint, never the token), from where, target and change — never a secret — on the
 * embedded store and cluster-wide on Redis; filters and CSV; hostile bodies and planted entries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';
import { REDIS_TEST_URL } from './support/store-backends.js';

type Entry = {
  id: string;
  at: string;
  action: string;
  target: string | null;
  actor: string;
  address: string;
  status: number;
  change: Record<string, unknown> | null;
  relayId: string;
};

async function audit(relay: TestRelay, query = ''): Promise<Entry[]> {
  const { status, json } = await relay.admin('GET', `/api/audit${query}`);
  expect(status).toBe(200);
  return json.entries as Entry[];
}

describe('the audit log on an embedded relay', () => {
  it('records each admin action with actor, address, target and change, newest first, and no secret', async () => {
    const relay = await startTestRelay();
    const { id: clientId, token } = await relay.createClient('audited bridge');
    expect((await relay.admin('PATCH', `/api/clients/${clientId}`, { status: 'disabled' })).status).toBe(200);
    const rotated = await relay.admin('POST', `/api/clients/${clientId}/rotate-token`);
    const download = await fetch(`${relay.url}/api/clients/${clientId}/download`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(download.status).toBe(200);
    await download.arrayBuffer();
    const created = await relay.admin('POST', '/api/keys', {
      name: 'audited key',
      scopes: ['chat'],
      limits: { tokens_per_day: 5000 },
    });
    expect(created.status).toBe(201);
    await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-5'] });
    await relay.admin('DELETE', `/api/keys/${created.json.id}`);
    // A refused action is recorded too, with its status.
    expect((await relay.admin('DELETE', '/api/clients/cl_doesnotexist')).status).toBe(404);

    const entries = await audit(relay);
    expect(entries.map((e) => e.action)).toEqual([
      'client.delete',
      'key.revoke',
      'alias.set',
      'key.create',
      'client.download',
      'client.rotate_token',
      'client.update',
      'client.register',
    ]);
    const byAction = Object.fromEntries(entries.map((e) => [e.action, e]));
    expect(byAction['client.register']?.target).toBe(clientId);
    expect(byAction['client.update']?.change).toEqual({ status: 'disabled' });
    expect(byAction['key.create']?.target).toBe(created.json.id);
    expect(byAction['key.create']?.change).toMatchObject({
      name: 'audited key',
      limits: { tokens_per_day: 5000 },
    });
    expect(byAction['alias.set']?.target).toBe('fast');
    expect(byAction['client.delete']).toMatchObject({ status: 404, target: 'cl_doesnotexist' });
    for (const entry of entries) {
      expect(entry.actor).toMatch(/^admin_token:[0-9a-f]{12}$/);
      expect(entry.address).toBe('127.0.0.1');
      expect(Date.parse(entry.at)).not.toBeNaN();
    }
    // Reads are not actions.
    expect(entries.some((e) => e.action.startsWith('api.'))).toBe(false);

    // No secret in the answer, nor in any byte of the data directory's audit file.
    const secrets = [token, rotated.json.token, created.json.key, relay.adminToken];
    const answer = JSON.stringify(entries);
    const file = readFileSync(join(relay.config.dataDir, 'audit.db')).toString('latin1');
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(answer).not.toContain(secret);
      expect(file).not.toContain(secret);
    }
    expect(readdirSync(relay.config.dataDir)).toContain('audit.db');
  });

  it('filters by action, target, actor and time, limits, and answers CSV', async () => {
    const relay = await startTestRelay();
    const a = await relay.createClient('first, "quoted"');
    const b = await relay.createClient('second');
    await relay.admin('POST', `/api/clients/${a.id}/rotate-token`);
    await relay.admin('POST', `/api/clients/${b.id}/rotate-token`);

    expect((await audit(relay, '?action=client.rotate_token')).map((e) => e.target)).toEqual([b.id, a.id]);
    expect((await audit(relay, `?target=${a.id}`)).map((e) => e.action)).toEqual([
      'client.rotate_token',
      'client.register',
    ]);
    expect(await audit(relay, '?limit=1')).toHaveLength(1);
    expect(await audit(relay, '?since=2999-01-01')).toEqual([]);
    expect(await audit(relay, '?until=2000-01-01T00:00:00Z')).toEqual([]);
    const [first] = await audit(relay);
    expect(await audit(relay, `?actor=${encodeURIComponent(first!.actor)}`)).toHaveLength(4);
    expect(await audit(relay, '?actor=key:nobody')).toEqual([]);

    const csv = await fetch(`${relay.url}/api/audit?format=csv&action=client.register`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,action,target,actor,address,status,change,relayId');
    expect(lines).toHaveLength(3);
    // The JSON change of a name holding a comma and quotes is one quoted field, quotes doubled.
    expect(lines[2]).toContain('"{""name"":""first, \\""quoted\\""""}"');

    for (const bad of ['?limit=0', '?limit=5000', '?since=yesterday', '?format=xml', '?unknown=1']) {
      expect((await relay.admin('GET', `/api/audit${bad}`)).status).toBe(400);
    }
  });

  it('records an admin-scoped key as the actor; unauthenticated calls neither act nor read the log', async () => {
    const relay = await startTestRelay();
    const admin = await relay.admin('POST', '/api/keys', { name: 'ops', scopes: ['admin'] });
    const res = await fetch(`${relay.url}/api/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.json.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'made by a key' }),
    });
    expect(res.status).toBe(201);
    const anonymous = await fetch(`${relay.url}/api/audit`);
    expect(anonymous.status).toBe(401);
    const entries = await audit(relay, '?action=client.register');
    expect(entries[0]?.actor).toBe(`key:${admin.json.id}`);
  });

  it('a hostile body is recorded bounded: secrets redacted, control characters stripped, long values cut', async () => {
    const relay = await startTestRelay();
    const { id } = await relay.createClient('target');
    const hostile = {
      name: `\u001b[2K\u001b[1Aok\u0007${'x'.repeat(10_000)}`,
      email: 'owner@example.com',
      metadata: { upstream_api_key: 'sk-lmab-very-secret', nested: { deeper: { deepest: { bottom: 1 } } } },
    };
    await relay.admin('PATCH', `/api/clients/${id}`, hostile);
    const [entry] = await audit(relay, '?action=client.update');
    const text = JSON.stringify(entry);
    expect(text).not.toContain('sk-lmab-very-secret');
    expect(text).not.toMatch(/\\u001b|\\u0007/);
    expect(String(entry?.change?.name).length).toBeLessThanOrEqual(201);
    expect(entry?.change?.metadata).toMatchObject({ upstream_api_key: '[redacted]' });
    // Not JSON at all: recorded as such, the action still answered by its own validation.
    const res = await fetch(`${relay.url}/api/clients/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    const [refused] = await audit(relay, '?action=client.update');
    expect(refused).toMatchObject({ status: 400, change: { body: '<not JSON>' } });
  });
});

describe('the audit log on Redis', () => {
  it('is cluster-wide, and a planted entry is skipped, never shown raw', async () => {
    const { prefix, relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const { id } = await a.createClient('on relay a');
    await b.admin('POST', `/api/clients/${id}/rotate-token`);
    const redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 });
    try {
      await redis.lpush(`${prefix}audit`, '{"action":"<script>","id":1}', 'not json', 'x'.repeat(100_000));
    } finally {
      redis.disconnect();
    }
    for (const relay of [a, b]) {
      const entries = await audit(relay);
      expect(entries.map((e) => e.action)).toEqual(['client.rotate_token', 'client.register']);
      expect(entries.map((e) => e.relayId)).toEqual([b.relayId, a.relayId]);
    }
  });
});

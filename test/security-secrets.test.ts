/**
 * Secrets never leak: a full life cycle (register a client, create keys, an agent connects, stream,
 * rotate the client token, revoke a key, try it again, a few failed logins) runs while every log
 * line of the relay and of the agent is captured at `trace`. No token, key, admin token, bridge
 * key or `authorization` value may appear in any of them, nor in any admin answer after the one
 * that created it; consumers' prompts and answers stay out of the logs too. Then the store is
 * read directly (every SQLite table and file byte; every Redis key under the relay's prefix):
 * secrets are at rest only as SHA-256 hashes. Run on both stores.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@arena-relay/bridge-agent';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../relay/src/store/secrets.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { keysUnder, REDIS_TEST_URL, redisAvailable } from './support/store-backends.js';
import { upgradeAnswer } from './support/upgrade-status.js';

if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

/** Collects every line written to it. */
class LineSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.lines.push(line);
    done();
  }
}

/** Key names whose string values must only ever be logged as `[redacted]`. */
const SECRET_FIELDS =
  /^(authorization|token|tokens?_?value|api_?key|key|admin_?token|upstream_?api_?key|password|secret)$/i;

/** Every (path, value) of a parsed log line, nested objects included. */
function* fields(value: unknown, path = ''): Generator<[string, unknown]> {
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    yield [`${path}${key}`, inner];
    yield* fields(inner, `${path}${key}.`);
  }
}

/** Asserts that `haystack` holds neither `secret` nor any 16-character piece of it. */
function expectAbsent(haystack: string, secret: string, what: string): void {
  expect(haystack.includes(secret), `${what} appears in full`).toBe(false);
  for (let i = 0; i + 16 <= secret.length; i++) {
    const piece = secret.slice(i, i + 16);
    expect(haystack.includes(piece), `${what}: piece ${i}..${i + 16} appears`).toBe(false);
  }
}

/** Every row of every table of a SQLite file, opened read-only, as text. */
function dumpSqlite(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    expect(tables.length).toBeGreaterThan(0);
    return tables
      .map((table) => `${table}\n${JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).all())}`)
      .join('\n');
  } finally {
    db.close();
  }
}

/** Every file under `dir`, as latin1 text (free pages and the WAL included). */
function dumpFiles(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? dumpFiles(path) : readFileSync(path).toString('latin1')))
    .join('\n');
}

/** Every key under `prefix` and its value, whatever its type. */
async function dumpRedis(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  for (const key of await keysUnder(redis, prefix)) {
    const type = await redis.type(key);
    parts.push(`${key} (${type})`);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'zset') parts.push((await redis.zrange(key, 0, -1, 'WITHSCORES')).join(' '));
    else if (type === 'set') parts.push((await redis.smembers(key)).join(' '));
    else if (type === 'list') parts.push((await redis.lrange(key, 0, -1)).join(' '));
    else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    else parts.push(`unreadable type ${type}`);
  }
  return parts.join('\n');
}

type Backend = 'sqlite' | 'redis';

async function lifeCycle(backend: Backend) {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  if (backend === 'redis') {
    // Registered first so it runs last, after the relay has closed.
    track({
      async close() {
        const redis = new Redis(REDIS_TEST_URL);
        const keys = await keysUnder(redis, prefix);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    });
  }
  const relayLog = new LineSink();
  const agentLog = new LineSink();
  const relay: TestRelay = await startTestRelay({
    logSink: relayLog,
    logLevel: 'trace',
    // No ADMIN_TOKEN: the relay generates one and keeps only its hash.
    adminToken: undefined,
    ...(backend === 'redis'
      ? { redisUrl: REDIS_TEST_URL, redisPrefix: prefix, clusterHeartbeatMs: 100 }
      : {}),
  });
  const adminToken = relay.generatedAdminToken;
  expect(adminToken).toMatch(/^ara_/);
  const adminAnswers: string[] = [];
  const admin = async (method: string, path: string, body?: unknown, token = adminToken!) => {
    const res = await fetch(relay.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  };
  const chat = (key: string, content: string, stream = true) =>
    fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream, messages: [{ role: 'user', content }] }),
    });

  const bridgeKey = `bridge-secret-${randomBytes(16).toString('hex')}`;
  const prompt = `prompt-marker-${randomBytes(12).toString('hex')}`;
  const answer = `answer-marker-${randomBytes(12).toString('hex')}`;
  const bridge = track(await startFakeBridge({ apiKey: bridgeKey, chunks: ['Hello ', answer, ' bye'] }));

  // Register a client and keys; the creating answers are the only ones allowed to show secrets.
  const created = await admin('POST', '/api/clients', { name: 'secret-test-bridge' });
  expect(created.status).toBe(201);
  const clientId: string = created.json.client.id;
  const clientToken: string = created.json.token;
  // A second client that is never rotated: what creation wrote stays at rest to be inspected.
  const spare = await admin('POST', '/api/clients', { name: 'secret-test-spare' });
  expect(spare.status).toBe(201);
  const spareToken: string = spare.json.token;
  const newKey = await admin('POST', '/api/keys', { name: 'consumer', scopes: ['chat', 'models'] });
  expect(newKey.status).toBe(201);
  const key: string = newKey.json.key;
  const scopedAdmin = await admin('POST', '/api/keys', { name: 'ops', scopes: ['admin'] });
  const adminKey: string = scopedAdmin.json.key;

  // An agent connects and serves a streamed and a plain completion.
  const agentOptions = { enableRequestLogging: true, upstreamApiKey: bridgeKey, logLevel: 'trace' as const };
  const agentLogger = createLogger({ level: 'trace', destination: agentLog });
  const agent = await startTestAgent(relay.url, clientToken, bridge.url, agentOptions, {
    logger: agentLogger,
  });
  await expect.poll(() => relay.router.models()).toContain('gpt-5');
  const streamed = await chat(key, prompt);
  expect(streamed.status).toBe(200);
  expect(await streamed.text()).toContain(answer);
  const plain = await chat(key, prompt, false);
  expect(plain.status).toBe(200);
  expect(await plain.text()).toContain(answer);

  // Failed logins of every kind: unknown key, the admin token as a key, a bad client token.
  const wrongKey = `sk-ar-${randomBytes(20).toString('hex')}`;
  expect((await chat(wrongKey, prompt)).status).toBe(401);
  expect((await chat(adminToken!, prompt)).status).toBe(401);
  expect((await admin('GET', '/api/clients', undefined, key)).status).toBe(403);
  expect((await admin('GET', '/api/clients', undefined, adminKey)).status).toBe(200);
  const wrongToken = `art_${randomBytes(20).toString('hex')}`;
  expect((await upgradeAnswer(relay.url, { authorization: `Bearer ${wrongToken}` })).status).toBe(401);

  // Rotate with no grace: the agent is cut off, told its token was replaced (fatal).
  const fatal = new Promise<Error>((resolve) => agent.once('fatal', resolve));
  const rotated = await admin('POST', `/api/clients/${clientId}/rotate-token?grace_seconds=0`);
  expect(rotated.status).toBe(200);
  const newToken: string = rotated.json.token;
  expect((await fatal).message).toMatch(/token was replaced/);
  await agent.close();
  await startTestAgent(relay.url, newToken, bridge.url, agentOptions, { logger: agentLogger });
  const again = await chat(key, prompt);
  expect(again.status).toBe(200);
  await again.text();

  // Revoke the key: it stops working.
  expect((await admin('DELETE', `/api/keys/${newKey.json.id}`)).status).toBe(200);
  expect((await chat(key, prompt)).status).toBe(401);

  // Everything the admin API shows after creation must be free of secrets.
  for (const path of [
    '/api/clients',
    `/api/clients/${clientId}`,
    '/api/keys?include_revoked=true',
    '/api/agents',
    '/api/streams',
  ]) {
    const { status, text } = await admin('GET', path);
    expect(status, path).toBe(200);
    adminAnswers.push(text);
  }
  // A scoped admin key appears by preview only.
  expect(adminAnswers.join('\n')).toContain(adminKey.slice(0, 10));

  await relay.close();
  return {
    relay,
    prefix,
    logs: { relay: relayLog.lines, agent: agentLog.lines },
    adminAnswers: adminAnswers.join('\n'),
    secrets: {
      'admin token': adminToken!,
      'client token': clientToken,
      'rotated client token': newToken,
      'never-rotated client token': spareToken,
      'API key': key,
      'admin-scoped API key': adminKey,
      'wrong API key presented': wrongKey,
      'wrong client token presented': wrongToken,
      'bridge API key': bridgeKey,
    },
    privacy: { prompt, answer },
  };
}

describe.each<Backend>(['sqlite', 'redis'])('secrets never leak (%s store)', (backend) => {
  it('no secret or authorization value in any relay or agent log line, nor in admin answers; no prompt or answer in logs', async () => {
    const { logs, secrets, privacy, adminAnswers } = await lifeCycle(backend);
    // The capture worked: both sides logged the flow, at every level down to trace.
    expect(logs.relay.length).toBeGreaterThan(10);
    expect(logs.agent.length).toBeGreaterThan(3);
    expect(logs.relay.join('\n')).toMatch(/agent connected/);
    expect(logs.agent.join('\n')).toMatch(/request finished/);

    for (const [side, lines] of Object.entries(logs)) {
      const all = lines.join('\n');
      for (const [what, secret] of Object.entries(secrets))
        expectAbsent(all, secret, `${what} in the ${side} log`);
      expect(all, `a bearer credential in the ${side} log`).not.toMatch(/bearer\s+\S/i);
      for (const [what, marker] of Object.entries(privacy)) {
        expect(all.includes(marker), `the consumer's ${what} in the ${side} log`).toBe(false);
      }
      for (const line of lines) {
        const parsed: unknown = JSON.parse(line);
        for (const [path, value] of fields(parsed)) {
          const name = path.split('.').at(-1)!;
          if (SECRET_FIELDS.test(name) && typeof value === 'string') {
            expect(value, `${side} log field ${path}`).toBe('[redacted]');
          }
        }
      }
    }
    for (const [what, secret] of Object.entries(secrets))
      expectAbsent(adminAnswers, secret, `${what} in admin answers`);
  }, 30_000);
});

describe('secrets at rest are hashes only', () => {
  it('SQLite: no plaintext secret in any table, row or byte of the data directory', async () => {
    const { relay, secrets } = await lifeCycle('sqlite');
    const rows = dumpSqlite(join(relay.config.dataDir, 'relay.db'));
    const bytes = dumpFiles(relay.config.dataDir);
    for (const [what, secret] of Object.entries(secrets)) {
      expectAbsent(rows, secret, `${what} in the SQLite rows`);
      expectAbsent(bytes, secret, `${what} in the data directory's bytes`);
    }
    // What is there instead: the hashes.
    expect(rows).toContain(hashSecret(secrets['rotated client token']));
    expect(rows).toContain(hashSecret(secrets['never-rotated client token']));
    expect(rows).toContain(hashSecret(secrets['API key']));
    expect(rows).toContain(hashSecret(secrets['admin-scoped API key']));
    expect(rows).toContain(hashSecret(secrets['admin token']));
    // The retired token is kept as a hash only, as the client's previous token: so the relay can
    // tell an agent still holding it that it was replaced (credential grace).
    expect(rows).toContain(hashSecret(secrets['client token']));
  }, 30_000);

  it('Redis: no plaintext secret under the relay prefix, in any key or value', async () => {
    const { prefix, secrets } = await lifeCycle('redis');
    const redis = new Redis(REDIS_TEST_URL);
    try {
      const dump = await dumpRedis(redis, prefix);
      expect(dump.length).toBeGreaterThan(0);
      expect(dump).not.toMatch(/unreadable type/);
      for (const [what, secret] of Object.entries(secrets)) expectAbsent(dump, secret, `${what} in Redis`);
      expect(dump).toContain(hashSecret(secrets['rotated client token']));
      expect(dump).toContain(hashSecret(secrets['never-rotated client token']));
      expect(dump).toContain(hashSecret(secrets['admin-scoped API key']));
      expect(dump).toContain(hashSecret(secrets['admin token']));
      // Kept as the client's previous token (a hash), as in SQLite.
      expect(dump).toContain(hashSecret(secrets['client token']));
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});

/** Defences against hostile consumers and agents that live in the relay's edges. */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';
import { upgradeAnswer } from './support/upgrade-status.js';

const chatBody = { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] };

const upgradeStatus = (url: string, token: string) =>
  upgradeAnswer(url, { authorization: `Bearer ${token}` });

describe('authentication abuse', () => {
  it('an address that keeps failing on /v1 is refused with 429 and retry-after, even with a good key', async () => {
    const relay = await startTestRelay({ authFailuresPerMinute: 5 });
    const { key } = await relay.createKey();
    const post = (k: string) =>
      fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
        body: JSON.stringify(chatBody),
      });
    for (let i = 0; i < 5; i++) expect((await post(`sk-ar-guess${i}`)).status).toBe(401);
    const blocked = await post(key);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('too_many_auth_failures');
    // The admin API shares the brake: same address, same wait.
    expect((await relay.admin('GET', '/api/clients')).status).toBe(429);
  });

  it('bad admin tokens trip it too', async () => {
    const relay = await startTestRelay({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${relay.url}/api/keys`, { headers: { authorization: `Bearer guess-${i}` } });
      expect(res.status).toBe(401);
    }
    expect((await relay.admin('GET', '/api/keys')).status).toBe(429);
  });

  it('bad client tokens on /agent/connect trip it, before any upgrade', async () => {
    const relay = await startTestRelay({ authFailuresPerMinute: 3 });
    const { token } = await relay.createClient();
    for (let i = 0; i < 3; i++) expect((await upgradeStatus(relay.url, `art_guess${i}`)).status).toBe(401);
    const refused = await upgradeStatus(relay.url, token);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(relay.hub.sessions.size).toBe(0);
  });
});

describe('hostile consumers', () => {
  it('refuses JSON nested too deep with a 400 before parsing it', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const deep = `{"model":"gpt-5","messages":${'['.repeat(200)}${']'.repeat(200)}}`;
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: deep,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/deeper than 64/);
  });

  it('drops a client that dribbles its headers (slowloris) after the headers timeout', async () => {
    const relay = await startTestRelay({ headersTimeoutMs: 300 });
    const socket = net.connect(relay.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps the connections one address may hold', async () => {
    const relay = await startTestRelay({ maxConnectionsPerAddress: 3 });
    const sockets = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const s = net.connect(relay.port, '127.0.0.1');
        await new Promise((resolve) => s.once('connect', resolve));
        return s;
      }),
    );
    const fourth = net.connect(relay.port, '127.0.0.1');
    await new Promise((resolve) => fourth.once('close', resolve));
    for (const s of sockets) expect(s.destroyed).toBe(false);
    for (const s of sockets) s.destroy();
    // A slot frees up when a connection closes.
    await expect
      .poll(async () => {
        try {
          return (await fetch(`${relay.url}/healthz`)).status;
        } catch {
          return 0;
        }
      })
      .toBe(200);
  });
});

describe('hostile agents', () => {
  it('a client may hold only so many live agents', async () => {
    const relay = await startTestRelay({ maxAgentsPerClient: 2 });
    const { token } = await relay.createClient();
    await connectRawAgent(relay.url, token, { hello: { instanceId: 'instance-0001' } });
    await connectRawAgent(relay.url, token, { hello: { instanceId: 'instance-0002' } });
    const third = await connectRawAgent(relay.url, token, { hello: false });
    third.send({
      type: 'hello',
      version: 1,
      agentVersion: 'x',
      instanceId: 'instance-0003',
      capabilities: [],
      models: ['gpt-5'],
      maxConcurrency: 1,
      ready: true,
    });
    const closed = await third.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/too many agents/);
    expect(relay.hub.sessions.size).toBe(2);
  });

  it('cannot claim another client identity in hello', async () => {
    const relay = await startTestRelay();
    const mine = await relay.createClient();
    const theirs = await relay.createClient();
    const agent = await connectRawAgent(relay.url, mine.token, { hello: false });
    agent.send({
      type: 'hello',
      version: 1,
      agentVersion: 'x',
      clientId: theirs.id,
      capabilities: [],
      models: ['gpt-5'],
      maxConcurrency: 1,
      ready: true,
    });
    const closed = await agent.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/does not match/);
  });
});

describe('CORS', () => {
  it('is off by default, and off on /api/* even when /v1/* allows an origin', async () => {
    const plain = await startTestRelay();
    const res = await fetch(`${plain.url}/v1/models`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();

    const relay = await startTestRelay({ corsOrigins: ['https://app.example'] });
    const preflight = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${relay.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const admin = await fetch(`${relay.url}/api/clients`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });
});

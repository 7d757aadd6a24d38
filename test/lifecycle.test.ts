/** Liveness and life cycle: half-open links, mass reconnects after a restart, graceful SIGTERM. */
import { describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { readRest } from './support/read-rest.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';
import { startRelayProcess } from './support/relay-process.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('half-open links', () => {
  it('both ends notice a link that goes silent without closing, and the agent comes back; three times, nothing leaks', async () => {
    const heartbeatMs = 200;
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay({ heartbeatMs });
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const port = Number(new URL(relay.url).port);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const agent = await startTestAgent(proxy.url, token, bridge.url);
    let sessionId = agent.sessionId;
    let timersAfterFirst = 0;
    for (let round = 1; round <= 3; round++) {
      const old = relay.hub.sessions.get(sessionId)!;
      const reconnected = new Promise<string>((resolve) => agent.once('connected', resolve));
      const dropped = new Promise<void>((resolve) => relay.hub.once('session-closed', () => resolve()));
      const frozenAt = Date.now();
      proxy.freeze();
      // The relay drops the silent socket (two missed pongs)…
      await dropped;
      const relayNoticedMs = Date.now() - frozenAt;
      // …and the agent, hearing no ping, dials again on a fresh session.
      sessionId = await reconnected;
      const agentBackMs = Date.now() - frozenAt;
      expect(old.closed).toBe(true);
      expect(relayNoticedMs).toBeLessThan(4 * heartbeatMs);
      expect(agentBackMs).toBeLessThan(4 * heartbeatMs + 500);
      expect(relay.hub.sessions.size).toBe(1);
      expect(relay.hub.sessions.has(sessionId)).toBe(true);
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
      if (round === 1) timersAfterFirst = timers();
    }
    expect(agent.status().reconnects).toBe(3);
    // Rounds two and three left no timers behind (a keep-alive timer may come and go: +1).
    expect(timers()).toBeLessThanOrEqual(timersAfterFirst + 1);
  });
});

describe('relay restart with 50 agents', () => {
  it('all reconnect within 5 s, spread by jitter rather than in one burst', async () => {
    const bridge = track(await startFakeBridge());
    const first = await startTestRelay();
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => first.createClient(`agent-${i}`)));
    // Production backoff (0.5 s → 30 s, full jitter): no test override.
    const agents: TestAgent[] = await Promise.all(
      clients.map((c) => startTestAgent(first.url, c.token, bridge.url, {}, { backoff: undefined })),
    );
    expect(first.hub.sessions.size).toBe(50);
    await first.close();
    const restartedAt = Date.now();
    const second = await startTestRelay({ port: first.port, dataDir: first.config.dataDir });
    const arrivals: number[] = [];
    second.hub.on('session', () => arrivals.push(Date.now() - restartedAt));
    await expect.poll(() => second.hub.sessions.size, { timeout: 5000, interval: 50 }).toBe(50);
    expect(Math.max(...arrivals)).toBeLessThan(5000);
    // Spread: the reconnects span hundreds of ms, and no 25 ms window holds a third of them.
    arrivals.sort((a, b) => a - b);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(150);
    let densest = 0;
    for (let i = 0; i < arrivals.length; i++) {
      let j = i;
      while (j < arrivals.length && arrivals[j]! - arrivals[i]! <= 25) j++;
      densest = Math.max(densest, j - i);
    }
    expect(densest).toBeLessThan(17);
    void agents;
  }, 30_000);
});

describe('goaway', () => {
  it('close() tells every agent goaway with the grace, keeps its socket while its stream runs, then closes it', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, token);
    const idle = await connectRawAgent(relay.url, token, { hello: { instanceId: 'another-instance' } });
    const answer = fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const open = await Promise.race([agent.next('open'), idle.next('open')]);
    const serving = agent.frames.includes(open) ? agent : idle;
    serving.head(open.stream, 'text/event-stream');
    serving.data(open.stream, 'data: one\n\n');
    const res = await answer;
    const reader = res.body!.getReader();
    await reader.read();

    const closed = relay.close({ graceMs: 10_000 });
    for (const each of [agent, idle]) {
      expect(await each.next('goaway')).toEqual({
        type: 'goaway',
        graceMs: 10_000,
        reason: 'relay shutting down',
      });
    }
    expect(relay.hub.list().every((session) => session.draining && session.goingAway)).toBe(true);
    // The stream runs on through its socket until it ends; only then does the relay close.
    serving.data(open.stream, 'data: two\n\n');
    serving.end(open.stream);
    const rest = await readRest(reader);
    expect(rest).toBe('data: two\n\n');
    await closed;
    expect((await serving.closed).code).toBe(1001);
  });
});

describe('SIGTERM', () => {
  async function relayWithAgent(env: Record<string, string> = {}) {
    const bridge = track(await startFakeBridge({ slowDelayMs: 60 }));
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const relay = await startRelayProcess({
      ADMIN_TOKEN,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-sigterm-')),
      ...env,
    });
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(relay.url + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, string>;
    return { relay, bridge, post };
  }

  it('lets a stream in flight finish, then exits', async () => {
    const { relay, bridge, post } = await relayWithAgent();
    const { token } = await post('/api/clients', { name: 'sigterm' });
    const { key } = await post('/api/keys', { name: 'sigterm' });
    await startTestAgent(relay.url, token!, bridge.url);
    bridge.scenario = 'slow';
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    relay.child.kill('SIGTERM');
    const body = await readRest(reader);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    await relay.exited;
    expect(relay.child.exitCode).toBe(0);
  });

  it('an idle relay exits in under a second', async () => {
    const { relay } = await relayWithAgent();
    const started = Date.now();
    relay.child.kill('SIGTERM');
    await relay.exited;
    expect(Date.now() - started).toBeLessThan(1000);
    expect([relay.child.exitCode, relay.child.signalCode]).toEqual([0, null]);
  });
});

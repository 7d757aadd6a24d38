/** Failure paths end to end: dead agents, slow consumers, relay restarts. */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { startAgentProcess } from './support/agent-process.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const streamBody = JSON.stringify({
  model: 'gpt-5',
  stream: true,
  messages: [{ role: 'user', content: 'x' }],
});

/** A raw streaming request whose response the test reads (or does not read) at its own pace. */
function openStream(url: string, key: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(streamBody);
  });
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('a dead agent', () => {
  it('killed mid-stream: the consumer gets an error event and the end within 1 s', async () => {
    const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 200 }));
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await startAgentProcess(['--relay', relay.url, '--token', token, '--upstream', bridge.url]);
    await expect.poll(() => relay.hub.sessions.size).toBe(1);
    const res = await openStream(relay.url, key);
    const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
    expect(first.toString()).toMatch(/^data: \{"id": "chatcmpl-/);
    const rest = readAll(res);
    agent.child.kill('SIGKILL');
    const killedAt = Date.now();
    const tail = await rest;
    expect(Date.now() - killedAt).toBeLessThan(1000);
    expect(tail).toMatch(
      /data: \{"error":\{"message":"bridge agent failed: [^"]*","type":"api_error","param":null,"code":"agent_unavailable"\}\}\n\n$/,
    );
    expect(tail).not.toContain('[DONE]');
  });
});

describe('flow control', () => {
  it('a consumer that does not read stalls only its own stream, and relay buffering stays bounded', {
    timeout: 60_000,
  }, async () => {
    // ~200 bytes an event × 80 000 events ≈ 16 MB: far more than sockets and one window can hold.
    const chunks = Array.from({ length: 80_000 }, (_, i) => DEFAULT_CHUNKS[i % DEFAULT_CHUNKS.length]!);
    const bridge = track(await startFakeBridge({ chunks }));
    const relay = await startTestRelay({ streamWindow: 64 * 1024 });
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    await startTestAgent(relay.url, token, bridge.url, { maxConcurrency: 4 });

    const slow = await openStream(relay.url, key);
    slow.pause(); // never read: the kernel buffers fill, then the relay must stop the agent
    const slowExchange = () => relay.registry.list()[0]!;
    // Wait until the slow stream's bytes stop growing (the whole path is back-pressured).
    let last = -1;
    await expect
      .poll(
        () => {
          const now = slowExchange().bytes;
          const settled = now === last && now > 0;
          last = now;
          return settled;
        },
        { interval: 200, timeout: 30_000 },
      )
      .toBe(true);
    const plateau = slowExchange().bytes;

    // Meanwhile a second stream on the same agent socket completes in full.
    const fast = await openStream(relay.url, key);
    const started = Date.now();
    const text = await readAll(fast);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);

    // The slow consumer resumes and gets every byte.
    slow.resume();
    const body = await readAll(slow);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(body.split('\n\n').length - 1).toBe(chunks.length + 2);
    // What the relay had sent while the consumer slept is bounded by socket buffers + one window,
    // far below the body (without credit it would have pushed everything into memory).
    expect(plateau).toBeLessThan(Buffer.byteLength(body) / 2);
  });
});

describe('relay restart', () => {
  it('the agent reconnects, and a key and client created before the restart still work', async () => {
    const bridge = track(await startFakeBridge());
    const first = await startTestRelay();
    const { token } = await first.createClient();
    const { key } = await first.createKey();
    const agent = await startTestAgent(first.url, token, bridge.url);
    const reconnected = new Promise<string>((resolve) => agent.once('connected', resolve));
    await first.close();
    const second = await startTestRelay({ port: first.port, dataDir: first.config.dataDir });
    const sessionId = await reconnected;
    expect(second.hub.sessions.has(sessionId)).toBe(true);
    const res = await openStream(second.url, key);
    expect(res.statusCode).toBe(200);
    expect(await readAll(res)).toContain('data: [DONE]');
  });
});

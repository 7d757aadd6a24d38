/**
 * Scale-out: relays sharing one Redis. A request entering any relay is served by an agent on any
 * relay, byte for byte; relays that die are noticed; keys and clients change everywhere at once.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { readRest } from './support/read-rest.js';
import type { TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

const cluster = startTestCluster;

const body = (stream: boolean) =>
  JSON.stringify({ model: 'gpt-5', stream, messages: [{ role: 'user', content: 'hi' }] });

async function chat(relay: TestRelay, key: string, stream = true, headers: Record<string, string> = {}) {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body(stream),
  });
}

const normalise = (sse: string) =>
  sse.replace(/chatcmpl-[0-9a-f-]{36}/g, 'chatcmpl-ID').replace(/"created": \d+/g, '"created": 0');

describe('three relays on one Redis', () => {
  it('streams entering any relay are served by an agent on any relay, byte for byte', async () => {
    const { relays } = await cluster(3);
    const [a, b, c] = relays as [TestRelay, TestRelay, TestRelay];
    const bridge = track(await startFakeBridge({ splitEvents: true }));
    const { token } = await a.createClient('only-bridge');
    const { key } = await b.createKey();
    await startTestAgent(c.url, token, bridge.url); // the one agent sits on relay C
    await expect.poll(() => a.router.models()).toContain('gpt-5');
    await expect.poll(() => b.router.models()).toContain('gpt-5');
    const direct = await (
      await fetch(`${bridge.url}/v1/chat/completions`, { method: 'POST', body: body(true) })
    ).text();
    for (const entry of [a, b, c]) {
      const res = await chat(entry, key);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(normalise(await res.text())).toBe(normalise(direct));
    }
    // Non-streaming too.
    const res = await chat(a, key, false);
    const json = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(json.choices[0]?.message.content).toBe(DEFAULT_CHUNKS.join(''));
  });

  it('a consumer disconnecting on one relay cancels the bridge request behind another', async () => {
    const { relays } = await cluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 100 }));
    await startTestAgent(b.url, (await a.createClient()).token, bridge.url);
    const { key } = await a.createKey();
    await expect.poll(() => a.router.models()).toContain('gpt-5');
    const controller = new AbortController();
    const res = await fetch(`${a.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body(true),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const abortedAt = Date.now();
    controller.abort();
    await bridge.nextEarlyClose();
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });

  it('slow consumers are flow-controlled across relays: the agent never outruns the credit', {
    timeout: 60_000,
  }, async () => {
    // Both relays, the agent and the bridge share this test's event loop while megabytes flow:
    // heartbeats get late, so give membership a TTL that such a flood cannot outrun.
    const { relays } = await cluster(2, 1000);
    const [a, b] = relays as [TestRelay, TestRelay];
    const chunks = Array.from({ length: 60_000 }, (_, i) => DEFAULT_CHUNKS[i % DEFAULT_CHUNKS.length]!);
    const bridge = track(await startFakeBridge({ chunks }));
    await startTestAgent(b.url, (await a.createClient()).token, bridge.url);
    const { key } = await a.createKey();
    await expect.poll(() => a.router.models()).toContain('gpt-5');
    const http = await import('node:http');
    const slow = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = http.request(`${a.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      req.on('response', resolve).on('error', reject);
      req.end(body(true));
    });
    slow.pause();
    let last = -1;
    await expect
      .poll(
        () => {
          const now = a.registry.list()[0]?.bytes ?? 0;
          const settled = now === last && now > 0;
          last = now;
          return settled;
        },
        { interval: 200, timeout: 30_000 },
      )
      .toBe(true);
    const plateau = last;
    slow.resume();
    let total = 0;
    for await (const chunk of slow) total += (chunk as Buffer).length;
    expect(plateau).toBeLessThan(total / 2);
  });

  it('a remote slot is free again as soon as its stream ends, not at the next advert', async () => {
    // Adverts every 5 s: a relay that only learned of free capacity from them would stall here.
    const { relays } = await cluster(2, 5000);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridge = track(await startFakeBridge());
    await startTestAgent(b.url, (await a.createClient()).token, bridge.url, { maxConcurrency: 1 });
    const { key } = await a.createKey();
    await expect.poll(() => a.router.models(), { timeout: 8000 }).toContain('gpt-5');
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await chat(a, key, false);
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(Date.now() - started).toBeLessThan(2000);
  }, 20_000);

  it('a relay shutting down: peers see its agents going away at once, its forwarded stream runs on, then it is gone', async () => {
    // Heartbeats a minute apart: only the relays' broadcasts can tell the peer anything in time.
    const { relays } = await cluster(2, 60_000);
    const [leaving, peer] = relays as [TestRelay, TestRelay];
    const { token } = await leaving.createClient();
    const { key } = await peer.createKey();
    const agent = await connectRawAgent(leaving.url, token);
    await expect.poll(() => peer.cluster!.remoteAgents().length).toBe(1);
    const answer = chat(peer, key);
    const open = await agent.next('open');
    agent.head(open.stream, 'text/event-stream');
    agent.data(open.stream, 'data: one\n\n');
    const reader = (await answer).body!.getReader();
    await reader.read();

    const closed = leaving.close({ graceMs: 10_000 });
    await expect.poll(() => peer.cluster!.remoteAgents()[0]?.goingAway).toBe(true);
    expect(peer.cluster!.remoteAgents()[0]!.routable).toBe(false);
    // Still a member: a relay that vanished would have its forwarded streams failed.
    expect(peer.cluster!.membership.relays()).toContain(leaving.relayId);
    agent.data(open.stream, 'data: two\n\n');
    agent.end(open.stream);
    const rest = await readRest(reader);
    expect(rest).toBe('data: two\n\n');
    await closed;
    await expect.poll(() => peer.cluster!.remoteAgents().length).toBe(0);
    expect(peer.cluster!.membership.relays()).not.toContain(leaving.relayId);
  });

  it('a sticky session holds across relays', async () => {
    const { relays } = await cluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const bridges = [track(await startFakeBridge()), track(await startFakeBridge())];
    await startTestAgent(a.url, (await a.createClient('x')).token, bridges[0]!.url);
    await startTestAgent(b.url, (await a.createClient('y')).token, bridges[1]!.url);
    const { key } = await a.createKey();
    await expect
      .poll(() => [a.cluster!.remoteAgents().length, b.cluster!.remoteAgents().length])
      .toEqual([1, 1]);
    const session = { 'x-session-name': 'chat-7' };
    const first = await chat(a, key, false, session);
    await first.text();
    const home = bridges.findIndex((br) => br.requests.length === 1);
    for (const entry of [b, a, b]) {
      const res = await chat(entry, key, false, session);
      expect(res.headers.get('x-session-pin')).toBe('kept');
      await res.text();
    }
    expect(bridges[home]!.requests.length).toBe(4);
    expect(bridges[1 - home]!.requests.length).toBe(0);
  });

  it('a revoked key and a disabled client are refused on every relay within a second', async () => {
    const { relays } = await cluster(3);
    const [a, b, c] = relays as [TestRelay, TestRelay, TestRelay];
    const { key, id: keyId } = await a.createKey();
    for (const r of relays) {
      expect(
        (await fetch(`${r.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status,
      ).toBe(200);
    }
    const { id: clientId, token } = await a.createClient();
    const agent = await connectRawAgent(c.url, token);
    expect((await b.admin('DELETE', `/api/keys/${keyId}`)).status).toBe(200);
    expect((await b.admin('PATCH', `/api/clients/${clientId}`, { status: 'disabled' })).status).toBe(200);
    const started = Date.now();
    for (const r of relays) {
      await expect
        .poll(
          async () =>
            (await fetch(`${r.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status,
          {
            timeout: 1000,
            interval: 50,
          },
        )
        .toBe(401);
    }
    expect((await agent.closed).code).toBe(1008);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

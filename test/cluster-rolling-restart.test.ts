/**
 * Three relay processes on real Redis and one agent holding sockets to several of them: it serves
 * through each, and a rolling restart of every relay (SIGTERM, wait for the exit, a new process on
 * the same port) under steady streaming load from the `openai` client loses nothing. Consumers
 * reach the relays through a modelled load balancer (`StreamLoad`) that stops sending a relay new
 * requests before it is signalled.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { parsePrometheus } from './support/prometheus.js';
import { models, relayProcesses } from './support/relay-cluster.js';
import { expectedStream, StreamLoad } from './support/stream-load.js';

const connectUrl = (relayUrl: string) => `${relayUrl.replace(/^http/, 'ws')}/agent/connect`;

/** The agent's connections that are welcomed and not going away. */
const live = (agent: TestAgent) =>
  agent.status().connections.filter((link) => link.connected && !link.going_away);

/** Three relays, a bridge streaming 15 chunks 30 ms apart, an agent given all three addresses. */
/** 20 streams/s over every relay of `stack`, running and through its first 20 streams. */
async function steadyLoad(stack: Awaited<ReturnType<typeof threeRelays>>): Promise<StreamLoad> {
  const load = new StreamLoad({
    key: stack.key,
    relays: stack.urls,
    perSecond: 20,
    expected: stack.expected,
  });
  load.start();
  await load.completes(20);
  return load;
}

async function threeRelays(connections: number) {
  const cluster = await relayProcesses(3, { GATEWAY_SHUTDOWN_GRACE: '20' });
  const urls = cluster.relays.map((relay) => relay.url);
  const bridge = track(await startFakeBridge({ chunkDelayMs: 30 }));
  const agent = await startTestAgent(urls.join(','), cluster.token, bridge.url, {
    connections,
    maxConcurrency: 64,
  });
  await expect.poll(() => live(agent).length, { timeout: 10_000 }).toBe(connections);
  for (const url of urls)
    await expect.poll(() => models(url, cluster.key), { timeout: 10_000 }).toContain('gpt-5');
  return { ...cluster, connections, urls, bridge, agent, expected: await expectedStream(bridge.url) };
}

/** Attempts that failed before the first byte and went to another agent, summed over `urls`. */
async function failovers(urls: string[]): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    sum += parsePrometheus(await (await fetch(`${url}/metrics`)).text()).sum('arena_relay_retries_total');
  }
  return sum;
}

/**
 * Restarts relay `index` the way an operator rolls a cluster: out of the balancer, SIGTERM, wait
 * for the exit, a new process on the same port, back in once it serves and the agent holds its
 * connections again. Returns what was in flight on the old relay when it was signalled.
 */
async function roll(stack: Awaited<ReturnType<typeof threeRelays>>, load: StreamLoad, index: number) {
  const url = stack.urls[index]!;
  await load.withdraw(url);
  const consumerStreams = load.reading(url);
  const agentStreams =
    stack.agent.status().connections.find((link) => link.relay_url === connectUrl(url) && link.connected)
      ?.in_flight ?? 0;
  const { exitCode } = await stack.restart(index);
  expect(exitCode).toBe(0);
  await expect.poll(() => models(url, stack.key), { timeout: 15_000 }).toContain('gpt-5');
  await expect.poll(() => live(stack.agent).length, { timeout: 15_000 }).toBe(stack.connections);
  load.admit(url);
  await load.completes(10);
  return { consumerStreams, agentStreams };
}

describe('an agent on several relays of a cluster', () => {
  it('with connections: 2 it holds sockets to two different relays and serves through both', async () => {
    const { urls, key, agent, bridge } = await threeRelays(2);
    const links = live(agent);
    expect(new Set(links.map((link) => link.relay_id)).size).toBe(2);
    expect(new Set(links.map((link) => link.relay_url)).size).toBe(2);
    // Streams that stay open: each relay holding a socket serves its consumers on it (local first).
    bridge.scenario = 'hang';
    const aborts = new AbortController();
    for (const url of urls) {
      for (const _ of [1, 2]) {
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] }),
          signal: aborts.signal,
        }).catch(() => undefined);
      }
    }
    await expect.poll(() => bridge.openStreams, { timeout: 10_000 }).toBe(6);
    const inFlight = live(agent).map((link) => link.in_flight);
    expect(inFlight.every((n) => n >= 2)).toBe(true);
    expect(inFlight.reduce((a, b) => a + b, 0)).toBe(6);
    aborts.abort();
  }, 60_000);

  it('a SIGTERM rolling restart of all three relays under 20 streams/s: nothing fails, every stream byte-exact', async () => {
    const stack = await threeRelays(2);
    const load = await steadyLoad(stack);
    const inFlight = { consumer: 0, agent: 0 };
    for (const index of [0, 1, 2]) {
      const at = await roll(stack, load, index);
      inFlight.consumer += at.consumerStreams;
      inFlight.agent += at.agentStreams;
    }
    const report = await load.stop();
    expect(report.failed).toEqual([]);
    expect(report.mismatched).toEqual([]);
    expect(report.ok).toBe(report.started);
    expect(report.ok).toBeGreaterThan(60);
    // The restarts met streams in flight on both sides of the signalled relays: the grace was used.
    expect(inFlight.consumer).toBeGreaterThan(0);
    expect(inFlight.agent).toBeGreaterThan(0);
    expect(live(stack.agent)).toHaveLength(2);
    console.log(
      `rolling restart: ${report.ok}/${report.started} streams byte-exact; in flight at SIGTERM: ` +
        `${inFlight.consumer} consumer-side, ${inFlight.agent} on the agent's sockets; ` +
        `failovers on the new relays: ${await failovers(stack.urls)}`,
    );
  }, 180_000);

  it('with connections: 1 the agent moves off a relay restarted under load with at most one failed-over request', async () => {
    const stack = await threeRelays(1);
    const first = live(stack.agent)[0]!;
    const index = stack.urls.findIndex((url) => connectUrl(url) === first.relay_url);
    const others = stack.urls.filter((_, i) => i !== index);
    const load = await steadyLoad(stack);
    const before = await failovers(others);
    await roll(stack, load, index);
    const report = await load.stop();
    const moved = live(stack.agent);
    expect(moved).toHaveLength(1);
    expect(moved[0]!.relay_url).not.toBe(first.relay_url);
    const failedOver = (await failovers(others)) - before;
    expect(report.failed.length + failedOver).toBeLessThanOrEqual(1);
    expect(report.mismatched).toEqual([]);
    console.log(
      `connections: 1: ${report.ok}/${report.started} byte-exact, ${report.failed.length} failed, ${failedOver} failed over`,
    );
  }, 150_000);
});

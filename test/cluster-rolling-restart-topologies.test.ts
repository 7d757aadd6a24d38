/**
 * Rolling restarts in two topologies the main rolling-restart suite does not meet: an agent with
 * `connections: 2` that lists exactly the two relays it holds (A, B), and an agent given one
 * balancer address in front of two relays. Consumers enter through a third relay, C, which holds
 * no agent, so every stream is forwarded across Redis to the relay holding the agent's socket.
 * SIGTERM A, its successor started on the same port, then the same for B, under steady streaming
 * load from the `openai` client: nothing fails, no stream is cut, and the agent never holds two
 * live sockets to one relay (the relay would have replaced the older one, streams and all).
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { models, relayProcesses } from './support/relay-cluster.js';
import { expectedStream, StreamLoad } from './support/stream-load.js';
import { startTcpBalancer } from './support/tcp-proxy.js';

/** The agent's connections that are welcomed and not going away. */
const live = (agent: TestAgent) =>
  agent.status().connections.filter((link) => link.connected && !link.going_away);

/**
 * Samples the agent's links every 25 ms (an observation, not a synchronisation): every moment at
 * which two live links were on the same relay.
 */
function watchDuplicates(agent: TestAgent): string[] {
  const seen: string[] = [];
  const timer = setInterval(() => {
    const ids = live(agent).map((link) => link.relay_id);
    if (new Set(ids).size < ids.length) seen.push(ids.join(','));
  }, 25);
  track({ close: async () => clearInterval(timer) });
  return seen;
}

/**
 * Three relays on one Redis; the agent dials what `agentUrl` makes of relays A and B; 20
 * streams/s enter through C and 20 of them have completed.
 */
async function stack(agentUrl: (a: string, b: string) => Promise<string>, connections: number) {
  // What is measured is the restart, not liveness: a 2 s heartbeat keeps a box starved for a
  // second (three relays, an agent and the load on two cores) from cutting a live socket.
  const cluster = await relayProcesses(3, { GATEWAY_SHUTDOWN_GRACE: '20', GATEWAY_HEARTBEAT_INTERVAL: '2' });
  const [a, b, c] = cluster.relays.map((relay) => relay.url) as [string, string, string];
  const bridge = track(await startFakeBridge({ chunkDelayMs: 30 }));
  const agent = await startTestAgent(await agentUrl(a, b), cluster.token, bridge.url, {
    connections: 2,
    maxConcurrency: 64,
  });
  await expect.poll(() => live(agent).length, { timeout: 10_000 }).toBe(connections);
  await expect.poll(() => models(c, cluster.key), { timeout: 10_000 }).toContain('gpt-5');
  const load = new StreamLoad({
    key: cluster.key,
    relays: [c],
    perSecond: 20,
    expected: await expectedStream(bridge.url),
  });
  load.start();
  await load.completes(20);
  return { cluster, agent, load, connections, duplicates: watchDuplicates(agent) };
}

/**
 * SIGTERM to relay A, then B, each replaced by a successor on its port; after each, the agent
 * holds its connections again and 10 more streams complete. Returns the streams in flight on the
 * agent's sockets at each SIGTERM.
 */
async function rollBoth({ cluster, agent, load, connections }: Awaited<ReturnType<typeof stack>>) {
  let inFlight = 0;
  for (const index of [0, 1]) {
    inFlight += live(agent).reduce((sum, link) => sum + link.in_flight, 0);
    const { exitCode } = await cluster.restart(index);
    expect(exitCode).toBe(0);
    await expect.poll(() => live(agent).length, { timeout: 20_000 }).toBe(connections);
    await load.completes(10);
  }
  return inFlight;
}

describe('a rolling restart of the relays an agent holds, consumers through another relay', () => {
  it('connections: 2 and exactly two addresses (A, B): 0 failed, 0 cut, never two sockets to one relay', async () => {
    const run = await stack(async (a, b) => `${a},${b}`, 2);
    const inFlight = await rollBoth(run);
    const report = await run.load.stop();
    expect(report.failed).toEqual([]);
    expect(report.mismatched).toEqual([]);
    expect(report.ok).toBe(report.started);
    expect(report.ok).toBeGreaterThan(40);
    // The restarts met streams in flight on the agent's sockets: the drain was exercised.
    expect(inFlight).toBeGreaterThan(0);
    expect(run.duplicates).toEqual([]);
    const links = live(run.agent);
    expect(new Set(links.map((link) => link.relay_id)).size).toBe(2);
    console.log(
      `two addresses: ${report.ok}/${report.started} byte-exact through C; ${inFlight} on the agent at SIGTERM`,
    );
  }, 150_000);

  it('one balancer address in front of A and B: 0 failed, 0 cut', async () => {
    const run = await stack(async (a, b) => {
      const balancer = await startTcpBalancer(
        [a, b].map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })),
      );
      return balancer.url;
    }, 1);
    const inFlight = await rollBoth(run);
    const report = await run.load.stop();
    expect(report.failed).toEqual([]);
    expect(report.mismatched).toEqual([]);
    expect(report.ok).toBe(report.started);
    expect(report.ok).toBeGreaterThan(40);
    expect(inFlight).toBeGreaterThan(0);
    expect(run.duplicates).toEqual([]);
    console.log(
      `one balancer address: ${report.ok}/${report.started} byte-exact through C; ${inFlight} on the agent at SIGTERM`,
    );
  }, 150_000);
});

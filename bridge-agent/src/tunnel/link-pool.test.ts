/**
 * `goaway` from a relay, under fake timers: the agent dials a replacement before the old socket
 * closes, takes no new stream on the old one, lets its streams there finish, never redials it,
 * and closes it itself when the relay keeps it past the announced grace.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Agent, startAgent } from '../agent.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging.js';
import { FakeBridge, SSE_DONE, sseChunk, startSse } from '../test-support/fake-bridge.js';
import { FakeRelay } from '../test-support/fake-relay.js';
import { GOAWAY_SLACK_MS } from './link-pool.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const item of open.splice(0).reverse()) await item.close();
});

/**
 * Polls between event-loop turns (timers are fake here), with a real-time deadline; `tick` runs
 * before each turn.
 */
async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  tick?: () => Promise<unknown>,
): Promise<T> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `until`, moving the fake clock 20 ms a turn: for what waits on a backoff timer. */
function advanceUntil<T>(probe: () => T | undefined | false, what: string): Promise<T> {
  return until(probe, what, () => vi.advanceTimersByTimeAsync(20));
}

/** How many of the agent's sockets are connected. */
function connectedCount(agent: Agent): number {
  return agent.status().connections.filter((link) => link.connected).length;
}

/** Fakes the timers (only: sockets keep their real clock). */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
}

/** Relays, a bridge whose streamed answers the test ends, and an agent given the relays in order. */
async function setup(count: number, connections: number) {
  const relays = await Promise.all(Array.from({ length: count }, () => FakeRelay.start()));
  open.push(...relays);
  const bridge = await FakeBridge.start();
  open.push(bridge);
  const answers: ServerResponse[] = [];
  bridge.chat = (_req, res) => {
    startSse(res);
    res.write(sseChunk('moving'));
    answers.push(res);
  };
  const config = loadConfig({
    argv: [
      ...['--relay', relays.map((relay) => relay.url).join(','), '--token', 'good-token'],
      ...['--upstream', bridge.url, '--status-port', '-1', '--connections', String(connections)],
    ],
    env: {},
    readFile: () => undefined,
  });
  const agent: Agent = await startAgent(config, {
    logger: createLogger({ level: 'silent' }),
    backoff: { baseMs: 5, capMs: 20 },
  });
  open.push(agent);
  const conns = await Promise.all(relays.slice(0, connections).map((relay) => relay.connection(1)));
  await until(() => connectedCount(agent) === Math.min(count, connections), 'welcome');
  return { relays, conns, bridge, answers, agent, urls: config.relayUrls };
}

describe('goaway from a relay', () => {
  it('connections: 1: a new socket to the next relay before the old one closes; the old one finishes its stream and is closed after grace + slack', async () => {
    const { relays, conns, answers, agent, urls } = await setup(2, 1);
    const [a, b] = relays as [FakeRelay, FakeRelay];
    const old = conns[0]!;
    old.open(1, { model: 'gpt-5', stream: true, messages: [] });
    await until(() => answers.length === 1 && old.bytes(1).length > 0, 'the first chunk of stream 1');

    fakeTimers();
    old.send({ type: 'goaway', graceMs: 1_000, reason: 'relay shutting down' });
    const replacement = await until(() => b.connections[0]?.hello && b.connections[0], 'a socket to relay b');
    await until(
      () => agent.status().connections.length === 2 && agent.status().connections[1]!.connected,
      'b',
    );
    expect(old.closed).toBeUndefined();
    expect(agent.status().connections).toMatchObject([
      { link: 1, relay_url: urls[0], connected: true, going_away: true },
      { link: 2, relay_url: urls[1], connected: true, going_away: false, reconnects: 1 },
    ]);
    // The going-away relay gets no share of max_concurrency any more: b gets all of it but the
    // slot of the stream still running on a.
    expect(replacement.hello!.slots).toBe(agent.status().max_concurrency - 1);

    old.open(2, { model: 'gpt-5', stream: true, messages: [] });
    const refused = await until(() => old.framesOf(2).find((frame) => frame.type === 'error'), 'a refusal');
    expect(refused).toMatchObject({ code: 'busy' });

    answers[0]!.end(SSE_DONE);
    await until(() => old.framesOf(1).some((frame) => frame.type === 'end'), 'the end of stream 1');
    expect(old.bytes(1).toString()).toBe(sseChunk('moving') + SSE_DONE);

    // The relay keeps the socket past its grace: the agent closes it, and does not dial it again.
    await vi.advanceTimersByTimeAsync(1_000 + GOAWAY_SLACK_MS - 50);
    expect(old.closed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50);
    const closed = await until(() => old.closed, 'the agent to close the old socket');
    expect(closed.code).toBe(1001);
    await until(() => agent.status().connections.length === 1, 'the old link to go');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.upgrades).toBe(1);
    expect(agent.status()).toMatchObject({ connected: true, relay_url: urls[1], reconnects: 1 });
  });

  it('connections: 2: the other socket keeps serving, the replacement goes to the relay not held, and a closed going-away socket is not redialled', async () => {
    const { relays, conns, agent, urls } = await setup(3, 2);
    const [a, b, c] = relays as [FakeRelay, FakeRelay, FakeRelay];
    const [onA, onB] = conns as [(typeof conns)[0], (typeof conns)[0]];

    fakeTimers();
    onA.send({ type: 'goaway', graceMs: 30_000 });
    await until(() => c.connections[0]?.hello, 'a socket to relay c');
    expect(b.upgrades).toBe(1);
    // b is raised to all the slots at once (a raise needs no echo); c joins and b is lowered later.
    const raise = await until(
      () =>
        onB.frames.find(
          (frame) => frame.type === 'capacity' && frame.slots === agent.status().max_concurrency,
        ),
      'b raised to every slot',
    );
    expect(raise).toBeDefined();
    expect(onB.closed).toBeUndefined();

    onA.ws.close(1001, 'relay shutting down');
    await until(() => agent.status().connections.length === 2, 'the going-away link to go');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(a.upgrades).toBe(1);
    expect(
      agent
        .status()
        .connections.map((link) => [link.relay_url, link.connected])
        .sort(),
    ).toEqual(
      [
        [urls[1], true],
        [urls[2], true],
      ].sort(),
    );
  });

  it('connections: 2 on exactly two relays: no second socket to the relay still held; the going-away address is dialled again once it closed, through refusals, until its successor answers', async () => {
    const { relays, conns, agent, urls } = await setup(2, 2);
    const [a, b] = relays as [FakeRelay, FakeRelay];
    const [onA, onB] = conns as [(typeof conns)[0], (typeof conns)[0]];

    fakeTimers();
    onA.send({ type: 'goaway', graceMs: 30_000 });
    await until(() => agent.status().connections[0]?.going_away, 'a going away');
    await vi.advanceTimersByTimeAsync(5_000);
    // The agent keeps the socket it has to b, and opens no second one there.
    expect(b.upgrades).toBe(1);
    expect(onB.closed).toBeUndefined();
    expect(a.upgrades).toBe(1);
    expect(agent.status().connections).toMatchObject([
      { relay_url: urls[0], connected: true, going_away: true },
      { relay_url: urls[1], connected: true, going_away: false },
    ]);

    // a closes its socket and is down for a while (a relay shutting down answers 503).
    a.options.refuseWith = 503;
    onA.ws.close(1001, 'relay shutting down');
    await advanceUntil(() => a.upgrades >= 3, 'a dialled again, and again after a refusal');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.upgrades).toBe(1);

    // Its successor answers: the agent holds both relays again.
    delete a.options.refuseWith;
    await advanceUntil(() => a.connections[1]?.hello, 'a socket to the successor of a');
    await until(() => connectedCount(agent) === 2, 'two sockets');
    expect(
      agent
        .status()
        .connections.map((link) => link.relay_url)
        .sort(),
    ).toEqual([urls[0], urls[1]].sort());
    expect(b.upgrades).toBe(1);
  });

  it('one address (a balancer): goaway dials it again at once, the going-away socket finishing meanwhile', async () => {
    const { relays, conns, agent } = await setup(1, 2);
    const [balancer] = relays as [FakeRelay];
    expect(agent.status().connections).toHaveLength(1);

    fakeTimers();
    conns[0]!.send({ type: 'goaway', graceMs: 30_000 });
    await until(() => balancer.connections[1]?.hello, 'a second dial of the only address');
    expect(conns[0]!.closed).toBeUndefined();
    expect(agent.status().connections).toMatchObject([
      { connected: true, going_away: true },
      { going_away: false },
    ]);
  });

  it('a socket that drops (no goaway) redials its own relay, not the one the other link holds', async () => {
    const { relays, conns, agent, urls } = await setup(2, 2);
    const [a, b] = relays as [FakeRelay, FakeRelay];
    fakeTimers();
    a.options.refuseWith = 503;
    conns[0]!.ws.terminate();
    await advanceUntil(() => a.upgrades >= 4, 'a dialled again through refusals');
    expect(b.upgrades).toBe(1);
    delete a.options.refuseWith;
    await advanceUntil(() => a.connections[1]?.hello, 'a socket to a again');
    await until(() => connectedCount(agent) === 2, 'two sockets');
    expect(agent.status().connections.map((link) => link.relay_url)).toEqual([urls[0], urls[1]]);
    expect(b.upgrades).toBe(1);
  });
});

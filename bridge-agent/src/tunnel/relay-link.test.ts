/** The relay link given several relay addresses: order, rotation on reconnect, backoff per round. */
import type { BackoffOptions } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from '../agent.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging.js';
import { FakeBridge } from '../test-support/fake-bridge.js';
import { FakeRelay, type FakeRelayOptions } from '../test-support/fake-relay.js';
import { waitFor } from '../test-support/wait.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function relays(...options: FakeRelayOptions[]): Promise<FakeRelay[]> {
  const started = await Promise.all(options.map((o) => FakeRelay.start(o)));
  open.push(...started);
  return started;
}

/** Log lines the agent wrote, parsed. */
type Line = { msg: string; delayMs?: number; next?: string; reason?: string };

/** An agent dialling `urls` in turn, with its log lines collected. */
async function agentFor(urls: string[], backoff: BackoffOptions = { baseMs: 5, capMs: 20 }) {
  const bridge = await FakeBridge.start();
  open.push(bridge);
  const config = loadConfig({
    argv: [
      '--relay',
      urls.join(','),
      '--token',
      'good-token',
      '--upstream',
      bridge.url,
      '--status-port',
      '-1',
      // These tests follow one socket moving through the addresses.
      '--connections',
      '1',
    ],
    env: {},
    readFile: () => undefined,
  });
  const lines: Line[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) },
  });
  const agent: Agent = await startAgent(config, { logger, backoff });
  open.push(agent);
  return { agent, lines, connectUrls: config.relayUrls };
}

describe('relay link with several relays', () => {
  it('dials the first, then moves to the next on every reconnect, wrapping around', async () => {
    const [a, b] = await relays({}, {});
    const { agent, connectUrls } = await agentFor([a!.url, b!.url]);
    const first = await a!.connection(1);
    await waitFor(() => agent.status().connected, 'the first session');
    expect(agent.status().relay_url).toBe(connectUrls[0]);
    expect(b!.upgrades).toBe(0);

    first.ws.close(1001, 'relay going away');
    const second = await b!.connection(1);
    await waitFor(() => agent.status().connected && agent.status().relay_url === connectUrls[1], 'relay b');
    expect(a!.upgrades).toBe(1);

    second.ws.close(1012, 'relay restarting');
    await a!.connection(2);
    await waitFor(() => agent.status().relay_url === connectUrls[0] && agent.status().connected, 'relay a');
    expect(agent.status().reconnects).toBe(2);
  });

  it('skips an address where nothing listens and serves from the next one', async () => {
    const [dead, live] = await relays({}, {});
    const deadUrl = dead!.url;
    await dead!.close();
    const { agent, lines } = await agentFor([deadUrl, live!.url]);
    const conn = await live!.connection(1);
    expect(await conn.health('h1')).toMatchObject({ id: 'h1', bridge: { ok: true } });
    expect(agent.status()).toMatchObject({ connected: true, reconnects: 1 });
    expect(lines.find((line) => line.msg === 'relay link down: reconnecting')?.reason).toMatch(
      /ECONNREFUSED/,
    );
  });

  it('grows the backoff once per round through the addresses, not once per address', async () => {
    const [a, b] = await relays({ refuseWith: 502 }, { refuseWith: 502 });
    const { lines } = await agentFor([a!.url, b!.url], { baseMs: 10, capMs: 1_000, random: () => 0.999 });
    const downs = () => lines.filter((line) => line.msg === 'relay link down: reconnecting');
    await waitFor(() => downs().length >= 6, 'six failed dials');
    expect(
      downs()
        .slice(0, 6)
        .map((line) => line.delayMs),
    ).toEqual([9, 9, 19, 19, 39, 39]);
    // The address is picked when the dial is made: both took their turns.
    expect(b!.upgrades).toBeGreaterThanOrEqual(3);
    expect(a!.upgrades).toBeGreaterThanOrEqual(3);
    expect(b!.upgrades).toBeGreaterThanOrEqual(3);
  });

  it('still treats a refused token as fatal at once, without trying the other addresses', async () => {
    const [a, b] = await relays({ token: 'another-token' }, {});
    const { agent } = await agentFor([a!.url, b!.url]);
    const error = await new Promise<Error>((resolve) => agent.once('fatal', resolve));
    expect(error.message).toContain('(401)');
    expect(b!.upgrades).toBe(0);
  });
});

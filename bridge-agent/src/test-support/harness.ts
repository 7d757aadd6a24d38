/** Test helper: a fake bridge, a fake relay and an agent between them, closed together. */
import type { ServerResponse } from 'node:http';
import { PROTOCOL_V2 } from '@arena-relay/shared';
import { afterEach } from 'vitest';
import type { Agent, AgentOptions } from '../agent.js';
import { startAgent } from '../agent.js';
import { loadConfig } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { FakeBridge, SSE_DONE, sseChunk, startSse } from './fake-bridge.js';
import { FakeRelay, type FakeRelayOptions, type RelayConnection } from './fake-relay.js';
import { waitFor } from './wait.js';

export type Harness = {
  bridge: FakeBridge;
  relay: FakeRelay;
  agent: Agent;
  config: AgentConfig;
  close(): Promise<void>;
};

export type HarnessOptions = {
  relay?: FakeRelayOptions;
  config?: Partial<AgentConfig>;
  agent?: AgentOptions;
  /** Runs before the agent starts (e.g. to set the bridge's models). */
  prepare?: (bridge: FakeBridge) => void;
};

/** Starts bridge, relay and agent (status server off, quick reconnects, silent logs). */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const bridge = await FakeBridge.start();
  const relay = await FakeRelay.start(options.relay);
  options.prepare?.(bridge);
  const argv = ['--relay', relay.url, '--token', 'good-token', '--upstream', bridge.url];
  const base = loadConfig({
    argv: [...argv, '--status-port', '-1', '--log-level', 'silent'],
    env: {},
    readFile: () => undefined,
  });
  const config = { ...base, ...options.config };
  const agent = await startAgent(config, { backoff: { baseMs: 5, capMs: 20 }, ...options.agent });
  return {
    bridge,
    relay,
    agent,
    config,
    async close() {
      await agent.close();
      await relay.close();
      await bridge.close();
    },
  };
}

/** A harness whose relay chose protocol 2 (bodies in BODY frames) and whose bridge streams `ok`. */
export async function startV2Harness(): Promise<Harness> {
  const h = await startHarness({ relay: { welcome: { protocol: PROTOCOL_V2 } } });
  h.bridge.chat = (_req, res) => {
    startSse(res);
    res.end(`${sseChunk('ok')}${SSE_DONE}`);
  };
  return h;
}

/** A streamed chat request, as the relay opens one. */
export const CHAT = { model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], stream: true };

/** Makes the bridge start an event stream for each chat request and hand its response to the test. */
export function holdStreams(harness: Harness): ServerResponse[] {
  const held: ServerResponse[] = [];
  harness.bridge.chat = (_req, res) => {
    startSse(res);
    held.push(res);
  };
  return held;
}

/** Opens `stream` (a CHAT) over the relay's connection; resolves once the bridge holds its response. */
export async function openHeld(harness: Harness, stream: number) {
  const held = holdStreams(harness);
  const conn = await harness.relay.connection();
  conn.open(stream, CHAT);
  const res = await waitFor(() => held[0], 'the chat request');
  return { conn, res, held };
}

/**
 * A v2 harness for each test of a file, closed after it: `start()` opens one and returns the
 * relay's connection; `bridge` is the current one's.
 */
export function v2HarnessEachTest(): { start(): Promise<RelayConnection>; readonly bridge: FakeBridge } {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  return {
    async start() {
      h = await startV2Harness();
      return h.relay.connection();
    },
    get bridge() {
      if (!h) throw new Error('start() the harness first');
      return h.bridge;
    },
  };
}

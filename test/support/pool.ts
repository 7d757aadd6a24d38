/** A relay with several agents, each in front of its own fake bridge, for routing tests. */
import type { AgentConfig } from '@arena-relay/bridge-agent';
import { startTestAgent, type TestAgent } from './agent.js';
import { track } from './cleanup.js';
import { type FakeBridge, type FakeBridgeOptions, startFakeBridge } from './fake-bridge.js';
import { startTestRelay, type TestRelay, type TestRelayOptions } from './relay.js';

export type PoolMember = { bridge: FakeBridge; agent: TestAgent; clientId: string };

export type Pool = {
  relay: TestRelay;
  key: string;
  members: PoolMember[];
  /** POSTs a chat completion; resolves with the response (body not read). */
  chat(body?: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  /** Index of the member whose bridge received the most recent request since `before`. */
  servedBy(before: number[]): number;
  /** Each bridge's request count, to pass to `servedBy`. */
  counts(): number[];
};

export async function startPool(
  size: number,
  options: {
    relay?: TestRelayOptions;
    bridge?: (index: number) => FakeBridgeOptions;
    agent?: (index: number) => Partial<AgentConfig>;
  } = {},
): Promise<Pool> {
  const relay = await startTestRelay(options.relay);
  const { key } = await relay.createKey();
  const members: PoolMember[] = [];
  for (let i = 0; i < size; i++) {
    const bridge = track(await startFakeBridge(options.bridge?.(i)));
    const { id, token } = await relay.createClient(`bridge-${i}`);
    const agent = await startTestAgent(relay.url, token, bridge.url, options.agent?.(i));
    members.push({ bridge, agent, clientId: id });
  }
  const counts = () => members.map((m) => m.bridge.requests.length);
  return {
    relay,
    key,
    members,
    counts,
    chat(body = {}, headers = {}) {
      return fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], ...body }),
      });
    },
    servedBy(before) {
      const after = counts();
      const index = after.findIndex((n, i) => n > (before[i] ?? 0));
      if (index < 0) throw new Error('no bridge received the request');
      return index;
    },
  };
}

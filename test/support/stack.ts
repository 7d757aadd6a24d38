/**
 * The usual end-to-end stack: a fake bridge, a relay, one agent between them, an API key, and the
 * official clients pointed at the relay (`openai` at /v1, `@anthropic-ai/sdk` at the root).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startTestAgent } from './agent.js';
import { track } from './cleanup.js';
import { type FakeBridgeOptions, startFakeBridge } from './fake-bridge.js';
import { startTestRelay, type TestRelayOptions } from './relay.js';

export async function startStack(options: { relay?: TestRelayOptions; bridge?: FakeBridgeOptions } = {}) {
  const bridge = track(await startFakeBridge(options.bridge));
  const relay = await startTestRelay(options.relay);
  const { token } = await relay.createClient();
  const key = await relay.createKey();
  const agent = await startTestAgent(relay.url, token, bridge.url);
  const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key.key, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: relay.url, apiKey: key.key, maxRetries: 0 });
  return { bridge, relay, agent, key, openai, anthropic };
}

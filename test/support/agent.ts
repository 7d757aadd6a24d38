/** Starts a real bridge agent in-process against a relay and waits until it is connected. */
import {
  type Agent,
  type AgentConfig,
  type AgentOptions,
  createLogger,
  loadConfig,
  startAgent,
} from '@arena-relay/bridge-agent';
import { track } from './cleanup.js';

export type TestAgent = Agent & { sessionId: string };

export async function startTestAgent(
  relayUrl: string,
  token: string,
  upstreamUrl: string,
  overrides: Partial<AgentConfig> = {},
  options: AgentOptions = {},
): Promise<TestAgent> {
  const config: AgentConfig = {
    ...loadConfig({
      argv: ['--relay', relayUrl, '--token', token, '--upstream', upstreamUrl, '--status-port', '-1'],
      env: {},
    }),
    ...overrides,
  };
  const agent = track(
    await startAgent(config, {
      logger: options.logger ?? createLogger({ level: 'silent' }),
      backoff: { baseMs: 50, capMs: 250 },
      ...options,
    }),
  );
  const sessionId = await new Promise<string>((resolve, reject) => {
    agent.once('connected', resolve);
    agent.once('fatal', reject);
  });
  return Object.assign(agent, { sessionId });
}

/**
 * `npm run demo`: a relay, a fake LMArenaBridge and a bridge agent in one process, with a client
 * and an API key registered, then a ready `curl` line. Ctrl-C stops everything.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger as agentLogger,
  loadConfig as loadAgentConfig,
  startAgent,
} from '@arena-relay/bridge-agent';
import { createLogger, loadConfig, startRelay } from '@arena-relay/relay';
import { startFakeBridge } from '../test/support/fake-bridge.js';

const ADMIN_TOKEN = 'demo-admin-token-change-me';

const bridge = await startFakeBridge({ chunkDelayMs: 80 });
const config = {
  ...loadConfig({ ADMIN_TOKEN, LOG_LEVEL: 'warn' }),
  port: Number(process.env.PORT ?? 8787),
  dataDir: mkdtempSync(join(tmpdir(), 'arena-relay-demo-')),
};
const relay = await startRelay(config, { logger: createLogger({ level: 'warn' }) });

const admin = async (path: string, body: unknown) => {
  const res = await fetch(relay.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};
const client = await admin('/api/clients', { name: 'demo bridge', lmarena_bridge_url: bridge.url });
const key = (await admin('/api/keys', { name: 'demo key' })).key as string;

const agent = await startAgent(
  loadAgentConfig({
    argv: [
      '--relay',
      relay.url,
      '--token',
      client.token as string,
      '--upstream',
      bridge.url,
      '--status-port',
      '0',
    ],
    env: {},
  }),
  { logger: agentLogger({ level: 'warn' }) },
);
await new Promise<void>((resolve) => agent.once('connected', () => resolve()));

console.log(`
Arena Relay demo is running (Ctrl-C to stop)

  relay            ${relay.url}      dashboard: ${relay.url}/dashboard
  admin token      ${ADMIN_TOKEN}
  fake bridge      ${bridge.url}   (plays LMArenaBridge)
  agent status     ${agent.statusUrl}/platform/status
  API key          ${key}

Stream an answer:

  curl -N ${relay.url}/v1/chat/completions \\
    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
    -d '{"model": "gpt-5", "stream": true, "messages": [{"role": "user", "content": "Hello"}]}'

Or with the openai SDK: base_url="${relay.url}/v1", api_key="${key}"
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await agent.close();
  await relay.close();
  await bridge.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

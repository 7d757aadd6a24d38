/**
 * A relay behind a TLS-terminating proxy: with TRUST_PROXY the agent's address shown by the admin
 * API is the one the proxy put in X-Forwarded-For; without it, the socket's peer, whatever the
 * request claims. The header here is what docker/nginx.conf sends: one hop, set by the proxy.
 * (Which hop of a longer, appended list counts is the client-address module's own business.)
 */

import { loadConfig } from '@arena-relay/relay';
import { AGENT_CONNECT_PATH, PROTOCOL_VERSION, parseRelayFrame, SUBPROTOCOL } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { track } from './support/cleanup.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';

/** An agent socket whose upgrade request carries `headers`; resolves once welcomed. */
async function connectWith(relayUrl: string, token: string, headers: Record<string, string>) {
  const ws = new WebSocket(relayUrl.replace(/^http/, 'ws') + AGENT_CONNECT_PATH, SUBPROTOCOL, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  track({
    close: () => {
      ws.terminate();
    },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const welcomed = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      const parsed = parseRelayFrame(data.toString());
      if (parsed.ok && parsed.frame.type === 'welcome') resolve();
    }),
  );
  ws.send(
    JSON.stringify({
      type: 'hello',
      version: PROTOCOL_VERSION,
      agentVersion: 'proxy-test',
      capabilities: ['chat'],
      models: ['gpt-5'],
      maxConcurrency: 1,
      ready: true,
    }),
  );
  await welcomed;
}

/** A relay with TRUST_PROXY as given, one agent connected with `headers`; its remote_address. */
async function remoteAddress(trustProxy: string, headers: Record<string, string>): Promise<string> {
  const config = loadConfig({ ADMIN_TOKEN, TRUST_PROXY: trustProxy });
  const relay = await startTestRelay({ trustProxy: config.trustProxy });
  const { token } = await relay.createClient();
  await connectWith(relay.url, token, headers);
  const { status, json } = await relay.admin('GET', '/api/agents');
  expect(status).toBe(200);
  expect(json.agents).toHaveLength(1);
  return json.agents[0].remote_address;
}

const FORWARDED = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };

describe('TRUST_PROXY', () => {
  it('on: the agent address is the one in X-Forwarded-For', async () => {
    expect(await remoteAddress('true', FORWARDED)).toBe('203.0.113.7');
  });

  it('on, without the header: the socket peer', async () => {
    expect(await remoteAddress('1', {})).toBe('127.0.0.1');
  });

  it('off (the default): X-Forwarded-For is ignored', async () => {
    expect(await remoteAddress('', FORWARDED)).toBe('127.0.0.1');
    expect(await remoteAddress('false', FORWARDED)).toBe('127.0.0.1');
  });

  it('refuses a value that is not a boolean word', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'sometimes' })).toThrow(/TRUST_PROXY/);
  });
});

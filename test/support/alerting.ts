/**
 * Helpers of the alert suites: the operator's webhook channel on a real receiver, a raw agent
 * played in and out of `cloudflare_challenge`, the default thresholds, and the bodies received.
 */
import { expect } from 'vitest';
import type { RawAgent } from './raw-agent.js';
import { httpReceiver } from './receivers.js';
import type { TestRelay } from './relay.js';

export const MIN = 60_000;

export type Sent = {
  kind: string;
  rule: string;
  title: string;
  text: string;
  labels: Record<string, string>;
  id: string;
  link?: string;
};
export const bodies = (received: Array<{ body: string }>) => received.map((r) => JSON.parse(r.body) as Sent);

/** A generic webhook channel of the operator's, on a real receiver. */
export async function operatorWebhook(relay: TestRelay) {
  const hook = await httpReceiver();
  const made = await relay.admin('POST', '/api/alerts/channels', {
    kind: 'webhook',
    name: 'ops',
    url: `${hook.url}/ops`,
  });
  expect(made.status).toBe(201);
  return hook;
}

export function notReady(agent: RawAgent, ready: boolean) {
  agent.send(
    ready
      ? { type: 'ready', ready: true }
      : { type: 'ready', ready: false, code: 'cloudflare_challenge', reason: 'Just a moment...' },
  );
}

/** The default thresholds from the config loader, so the tests follow them. */
export async function alertDefaults() {
  const { loadConfig } = await import('../../relay/src/config/load-config.js');
  return loadConfig({ ADMIN_TOKEN: 'x'.repeat(24) }).alerts;
}

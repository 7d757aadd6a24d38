/** Starts a real relay on 127.0.0.1:0 with a temp DATA_DIR and a known admin token. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import {
  createLogger,
  loadConfig,
  type Relay,
  type RelayConfig,
  type RelayOptions,
  startRelay,
} from '@arena-relay/relay';
import { track } from './cleanup.js';

// biome-ignore lint/suspicious/noExplicitAny: admin answers are checked field by field in tests.
type AnyJson = any;

let clientCounter = 0;

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export type TestRelay = Relay & {
  config: RelayConfig;
  adminToken: string;
  /** Calls the admin API with the admin token; returns status and parsed JSON. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: AnyJson }>;
  /** Registers a bridge client; returns its id and token. */
  createClient(name?: string): Promise<{ id: string; token: string }>;
  /** Creates an API key; returns id and key. */
  createKey(name?: string): Promise<{ id: string; key: string }>;
};

export type TestRelayOptions = Partial<RelayConfig> & { logSink?: Writable } & Pick<
    RelayOptions,
    'agentBundle' | 'consumerFastPath' | 'resolveOwnerWebhook' | 'clusterBatch'
  >;

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const { logSink, agentBundle, consumerFastPath, resolveOwnerWebhook, clusterBatch, ...overrides } = options;
  const config: RelayConfig = {
    ...loadConfig({ ADMIN_TOKEN }),
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'arena-relay-')),
    logLevel: logSink ? 'debug' : 'silent',
    // Suites make many deliberate auth failures from 127.0.0.1; the brake has its own test.
    authFailuresPerMinute: 10_000,
    // Building the agent bundle costs a second of CPU per test file; the self-update suite turns it on.
    agentUpdates: false,
    ...overrides,
  };
  const logger = createLogger({ level: config.logLevel, destination: logSink });
  const relay = track(
    await startRelay(config, {
      logger,
      consumerFastPath,
      clusterBatch,
      resolveOwnerWebhook,
      ...(agentBundle ? { agentBundle } : {}),
    }),
  );
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(relay.url + path, {
      method,
      headers: {
        authorization: `Bearer ${config.adminToken ?? ADMIN_TOKEN}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    ...relay,
    close: relay.close,
    config,
    adminToken: config.adminToken ?? ADMIN_TOKEN,
    admin,
    async createClient(name = `test bridge ${++clientCounter}`) {
      const { status, json } = await admin('POST', '/api/clients', { name });
      if (status !== 201) throw new Error(`createClient: ${status} ${JSON.stringify(json)}`);
      return { id: json.client.id, token: json.token };
    },
    async createKey(name = 'test key') {
      const { status, json } = await admin('POST', '/api/keys', { name });
      if (status !== 201) throw new Error(`createKey: ${status} ${JSON.stringify(json)}`);
      return { id: json.id, key: json.key };
    },
  };
}

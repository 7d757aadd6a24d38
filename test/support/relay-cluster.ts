/**
 * Relays sharing the test Redis under one fresh key prefix (its keys removed after the relays
 * closed): `startTestCluster` in this process, `relayProcesses` as real processes.
 *
 * Several relay processes on the test Redis under one fresh key prefix (removed afterwards), with
 * a client token and an API key made through the first: the setup of the multi-relay fault tests.
 * `restart` stops one with SIGTERM and starts its successor on the same port, as an operator's
 * rolling restart does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './cleanup.js';
import { ADMIN_TOKEN, startTestRelay, type TestRelay, type TestRelayOptions } from './relay.js';
import { type RelayProcess, startRelayProcess } from './relay-process.js';
import { keysUnder, REDIS_TEST_URL } from './store-backends.js';

export function dropKeysAfterwards(url: string, prefix: string) {
  track({
    async close() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      const keys = await keysUnder(redis, prefix);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  });
}

export type RelayCluster = {
  /** The relays in the order they were started; `restart` puts the successor in its place. */
  relays: RelayProcess[];
  token: string;
  key: string;
  /**
   * SIGTERM to relay `index`, waits for it to exit, starts a new one on the same port; resolves
   * with the old one's exit code and the successor (also in `relays[index]`).
   */
  restart(index: number): Promise<{ exitCode: number | null; relay: RelayProcess }>;
};

/** `count` relay processes sharing the test Redis; `env` adds to (or overrides) their settings. */
export async function relayProcesses(count: number, env: Record<string, string> = {}): Promise<RelayCluster> {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  dropKeysAfterwards(REDIS_TEST_URL, prefix);
  const settings = {
    ADMIN_TOKEN,
    REDIS_URL: REDIS_TEST_URL,
    REDIS_PREFIX: prefix,
    CLUSTER_HEARTBEAT_INTERVAL: '0.2',
    GATEWAY_HEARTBEAT_INTERVAL: '0.5',
    ...env,
  };
  const start = (port = '0') =>
    startRelayProcess({ ...settings, PORT: port, DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-cluster-')) });
  const relays: RelayProcess[] = [];
  for (let i = 0; i < count; i++) relays.push(await start());
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(relays[0]!.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, string>;
  };
  const { token } = await admin('/api/clients', { name: `bridge-${prefix}` });
  const { key } = await admin('/api/keys', { name: 'k' });
  return {
    relays,
    token: token!,
    key: key!,
    async restart(index) {
      const old = relays[index]!;
      old.child.kill('SIGTERM');
      await old.exited;
      const relay = await start(new URL(old.url).port);
      relays[index] = relay;
      return { exitCode: old.child.exitCode, relay };
    },
  };
}

/** The model ids `GET /v1/models` lists on relay `url` (empty on any failure). */
export async function models(url: string, key: string): Promise<string[]> {
  try {
    const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { data?: Array<{ id: string }> }).data?.map((m) => m.id) ?? [];
  } catch {
    return [];
  }
}

/** `size` in-process relays sharing the test Redis (a cluster of their own). */
export async function startTestCluster(
  size: number,
  clusterHeartbeatMs = 250,
  options: TestRelayOptions = {},
): Promise<{ prefix: string; relays: TestRelay[] }> {
  const prefix = `arena-test-${randomBytes(6).toString('hex')}:`;
  // Registered first, so it runs last: after the relays have closed, drop every key of the run.
  dropKeysAfterwards(REDIS_TEST_URL, prefix);
  const relays: TestRelay[] = [];
  for (let i = 0; i < size; i++) {
    relays.push(
      await startTestRelay({ redisUrl: REDIS_TEST_URL, redisPrefix: prefix, clusterHeartbeatMs, ...options }),
    );
  }
  return { prefix, relays };
}

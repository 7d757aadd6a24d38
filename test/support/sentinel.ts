/**
 * A private Sentinel set-up for fail-over tests: a master, a replica and `count` Sentinels in a
 * temp dir, each `redis-server --sentinel` (the binary that provides Redis, so the suite needs no
 * separate redis-sentinel package), watching the master as `mymaster` with a 1 s down-after.
 * Resolves once every Sentinel knows the replica and the other Sentinels, so a fail-over can be
 * decided. Everything is killed after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { track } from './cleanup.js';
import { freePort, type PrivateRedis, startPrivateRedis } from './private-redis.js';

export const MASTER_NAME = 'mymaster';

export type SentinelSetup = {
  master: PrivateRedis;
  replica: PrivateRedis;
  sentinels: Array<{ host: string; port: number }>;
  /** Asks a Sentinel which `host:port` is the master now. */
  currentMaster(): Promise<string>;
};

async function answering(port: number): Promise<Redis> {
  const redis = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  redis.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    redis.once('ready', () => resolve());
    void redis.connect().catch(() => undefined);
  });
  return redis;
}

export async function startSentinelSetup(count = 3): Promise<SentinelSetup> {
  const master = await startPrivateRedis();
  const replica = await startPrivateRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  const dir = mkdtempSync(join(tmpdir(), 'arena-sentinel-'));
  const sentinels: Array<{ host: string; port: number }> = [];
  const clients: Redis[] = [];
  const children: ChildProcess[] = [];
  track({
    async close() {
      for (const c of clients) c.disconnect();
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
    },
  });
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const file = join(dir, `sentinel-${i}.conf`);
    // Sentinel rewrites its file with what it learns: one writable file each.
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} ${Math.min(2, count)}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    // The config file must come first: redis-server reads its first argument as the file.
    children.push(spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' }));
    clients.push(await answering(port));
    sentinels.push({ host: '127.0.0.1', port });
  }
  // Ready for a fail-over once each knows the replica and every other Sentinel (hello messages
  // go every 2 s over the master).
  for (const client of clients) {
    await expect
      .poll(
        async () => {
          const replicas = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
          const peers = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
          return [replicas.length, peers.length];
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([1, count - 1]);
  }
  return {
    master,
    replica,
    sentinels,
    async currentMaster() {
      const [host, port] = (await clients[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [
        string,
        string,
      ];
      return `${host}:${port}`;
    },
  };
}

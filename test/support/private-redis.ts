/**
 * A private redis-server for tests that stop or kill Redis (the shared one on 6379 serves every
 * other suite). Durable like a production one (AOF, fsync always), so a restart keeps the data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './cleanup.js';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type PrivateRedis = {
  url: string;
  port: number;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers. */
  restart(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Starts one; it is killed after the test (track it before the relays that use it). `args` go
 * after the defaults (e.g. `['--replicaof', '127.0.0.1', '6380']` for a replica).
 */
export async function startPrivateRedis(
  args: string[] = [],
  options: { tls?: { certFile: string; keyFile: string; caPem: string } } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const { tls } = options;
  // With TLS the one port speaks only TLS (clients need not present a certificate).
  const listen = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
      ]
    : ['--port', String(port)];
  const tlsArgs = tls ? ['--tls-auth-clients', 'no'] : [];
  const dir = mkdtempSync(join(tmpdir(), 'arena-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(
      'redis-server',
      [
        ...listen,
        ...tlsArgs,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
        ...(tls ? { tls: { ca: tls.caPem } } : {}),
      });
      probe.on('error', () => undefined);
      probe.once('ready', () => {
        probe.disconnect();
        resolve();
      });
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
      void probe.connect().catch(() => undefined);
    });
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  await start();
  const url = `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  return track({ url, port, kill, restart: start, close: kill });
}

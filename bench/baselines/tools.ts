/** What the throwaway baselines (nginx, sshd) need: their binaries, free ports, readiness polls. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { until } from '../stats.js';

/** A proxy between the load generator and the bridge, measured like the relay. */
export type Baseline = {
  name: string;
  url: string;
  /** Processes doing the work: `entry` takes the consumer's connection, `exit` dials the bridge (none: `[]`). */
  entry(): number[];
  exit(): number[];
  stop(): Promise<void>;
};

/** A baseline that could not run, and why (printed as `skipped: <reason>`). */
export type Skipped = { skipped: string };

/** Absolute path of a program on PATH or in the sbin folders (root's tools), else undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return undefined;
}

/** First line a program prints for `args` (its version; nginx and ssh print it on stderr), or undefined. */
export function versionOf(binary: string, args: string[]): string | undefined {
  const run = spawnSync(binary, args, { encoding: 'utf8', timeout: 5_000 });
  return `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n')[0]?.trim() || undefined;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True once 127.0.0.1:`port` accepts a connection, false after `timeoutMs`. */
export function waitForPort(port: number, timeoutMs = 10_000): Promise<boolean> {
  const probe = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  return until(probe, timeoutMs, 50);
}

/** Spawns a program with its stderr kept (the last lines, for error messages). */
export function spawnLogged(binary: string, args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-2000);
  });
  return { child, stderr: () => tail.trim() };
}

/** Resolves when the child exits; SIGKILL if `signal` did not end it within 5 s. */
export function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

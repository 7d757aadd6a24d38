/**
 * Runs a relay as a child process (`node --import tsx relay/src/cli.ts`), for tests that must
 * kill it for real. Resolves once it prints `listening on http://…` on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type RelayProcess = {
  url: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  close(): Promise<void>;
};

export async function startRelayProcess(env: Record<string, string>): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/src/cli.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      GATEWAY_AGENT_UPDATES: 'off',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (https?:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    exited.then(() => reject(new Error(`relay exited before listening:\n${stderr}`)));
  });
  const relay: RelayProcess = {
    url,
    child,
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return track(relay);
}

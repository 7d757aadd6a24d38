/**
 * Runs a bridge agent as a child process (`node --import tsx bridge-agent/src/cli.ts`), for
 * tests that kill it for real. Resolves once it logs its first connection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type AgentProcess = { child: ChildProcess; exited: Promise<void>; close(): Promise<void> };

export async function startAgentProcess(args: string[]): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bridge-agent/src/cli.ts', '--status-port', '-1', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, AGENT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        if (/"msg":"connected/.test(output)) resolve();
      });
    }
    exited.then(() => reject(new Error(`agent exited before connecting:\n${output}`)));
  });
  return track({
    child,
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
}

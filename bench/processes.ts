/**
 * Starts the bench's cast as separate processes (fake bridge, relay, agent), so each has its own
 * event loop as in production, and waits for each to be ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = new URL('..', import.meta.url).pathname;

export type Proc = { child: ChildProcess; stop(): Promise<void> };

/** Extra node flags for the relay and agent (e.g. `--cpu-prof`), set by `npm run bench -- --profile`. */
export const nodeFlags: string[] = [];

function launch(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  flags: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...flags, '--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
}

/** Resolves with the first stdout/stderr line that matches, or rejects when the process exits. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        seen.push(line);
        const match = pattern.exec(line);
        if (match) resolve(match);
      });
    }
    child.once('exit', (code) =>
      reject(new Error(`process exited (${code}) before ready:\n${seen.join('\n')}`)),
    );
  });
}

export async function startFakeBridge(args: string[] = []): Promise<Proc & { url: string }> {
  const child = launch('scripts/fake-bridge.ts', ['--port', '0', ...args]);
  const match = await waitForLine(child, /"url":\s*"([^"]+)"/);
  return { child, url: match[1]!, stop: stopper(child) };
}

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export async function startRelayProcess(env: Record<string, string> = {}): Promise<Proc & { url: string }> {
  const child = launch(
    'relay/src/cli.ts',
    [],
    {
      PORT: '0',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-bench-')),
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      ...env,
    },
    nodeFlags,
  );
  const match = await waitForLine(child, /listening on (https?:\/\/\S+)/);
  return { child, url: match[1]!, stop: stopper(child) };
}

export async function startAgentProcess(
  relayUrl: string,
  token: string,
  upstream: string,
  maxConcurrency: number,
) {
  const child = launch(
    'bridge-agent/src/cli.ts',
    [
      '--relay',
      relayUrl,
      '--token',
      token,
      '--upstream',
      upstream,
      '--status-port',
      '-1',
      '--max-concurrency',
      String(maxConcurrency),
      '--log-level',
      'info',
    ],
    {},
    nodeFlags,
  );
  await waitForLine(child, /connected/i);
  return { child, stop: stopper(child) };
}

/** Registers a client and an API key on a relay through its admin API. */
export async function provision(relayUrl: string): Promise<{ token: string; key: string }> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(relayUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const client = await call('/api/clients', { name: 'bench' });
  const key = await call('/api/keys', { name: 'bench' });
  return { token: client.token!, key: key.key! };
}

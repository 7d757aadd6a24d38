/**
 * Starts the bench's cast as separate processes (fake bridge, relay, agents), so each has its own
 * event loop as in production, and waits for each to be ready. Every process is stopped by the
 * `stop` it comes with (SIGTERM, then SIGKILL after 10 s); nothing outlives the bench.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = new URL('..', import.meta.url).pathname;

export type Proc = { child: ChildProcess; pid: number; stop(): Promise<void> };

/** A relay or agent started with `inspect`: `inspector` is its debugger's WebSocket URL. */
export type Inspectable = { inspector: string | undefined };

/** Node flags for a free loopback inspector port (printed as `Debugger listening on ws://…`). */
const INSPECT = ['--inspect=127.0.0.1:0'];
const DEBUGGER_LINE = /Debugger listening on (ws:\/\/\S+)/;

/**
 * Where `--profile` writes CPU profiles (one folder per scenario and role); unset: no profiling.
 * Set once by run.ts.
 */
export const profiling: { dir: string | undefined } = { dir: undefined };

/**
 * What the relay and agents run: the bundles built by bench/bundles.ts (as deployed) when set,
 * else their TypeScript sources through tsx (`--sources`). Set once by run.ts.
 */
export const programs: { relay: string; agent: string } = {
  relay: 'relay/src/cli.ts',
  agent: 'bridge-agent/src/cli.ts',
};

/** Node flags that make a relay or agent write a CPU profile on exit, under `<dir>/<label>/`. */
function profileFlags(label: string | undefined): string[] {
  if (!profiling.dir || !label) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${join(profiling.dir, label)}`];
}

function launch(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  flags: string[] = [],
): ChildProcess {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, [...flags, ...loader, resolve(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Stops a child: `signal` first, SIGKILL if it is still there after `graceMs`. */
export function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
  return (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    });
}

/** Resolves with the first stdout/stderr line that matches; rejects when the process exits or time runs out. */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${timeoutMs} ms:\n${seen.join('\n')}`)),
      timeoutMs,
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        if (seen.length < 50) seen.push(line);
        const match = pattern.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ready:\n${seen.join('\n')}`));
    });
  });
}

/** The fake bridge (scripts/fake-bridge.ts); `args` e.g. `['--chunks', '21']`. */
export async function startFakeBridge(args: string[] = []): Promise<Proc & { url: string }> {
  const child = launch('scripts/fake-bridge.ts', ['--port', '0', ...args]);
  const match = await waitForLine(child, /"url":\s*"([^"]+)"/);
  return { child, pid: child.pid!, url: match[1]!, stop: stopper(child) };
}

/** The cheap paced stub bridge (bench/stub-bridge.ts); `args` e.g. `['--chunks', '400']`. */
export async function startStubBridge(args: string[] = []): Promise<Proc & { url: string }> {
  const child = launch('bench/stub-bridge.ts', ['--port', '0', ...args]);
  const match = await waitForLine(child, /"url":\s*"([^"]+)"/);
  return { child, pid: child.pid!, url: match[1]!, stop: stopper(child) };
}

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * A relay with its own temporary data directory (removed on stop); `env` adds or overrides
 * settings. With `inspect`, it also opens the inspector on a free loopback port, so that the
 * bench can ask for a full GC before reading its memory, count what it allocates or profile a
 * window (bench/inspector.ts); `inspector` is the debugger's URL.
 */
export async function startRelayProcess(
  env: Record<string, string> = {},
  profileLabel?: string,
  options: { inspect?: boolean } = {},
): Promise<Proc & { url: string } & Inspectable> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-bench-'));
  const child = launch(
    programs.relay,
    [],
    {
      PORT: '0',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      // Short enough that SIGTERM ends in time for --cpu-prof to write its profile.
      GATEWAY_SHUTDOWN_GRACE: '2',
      // No agent bundle built in the background while the figures are taken.
      GATEWAY_AGENT_UPDATES: 'off',
      ...env,
    },
    [...profileFlags(profileLabel), ...(options.inspect ? INSPECT : [])],
  );
  const stopChild = stopper(child);
  const stop = async () => {
    await stopChild();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const [listening, inspector] = await Promise.all([
      waitForLine(child, /listening on (https?:\/\/\S+)/),
      options.inspect ? waitForLine(child, DEBUGGER_LINE) : undefined,
    ]);
    return { child, pid: child.pid!, url: listening[1]!, inspector: inspector?.[1], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A bridge agent serving `upstream` for the client whose token is `token`; `inspect` as for the relay. */
export async function startAgentProcess(
  relayUrl: string,
  token: string,
  upstream: string,
  maxConcurrency: number,
  profileLabel?: string,
  options: { inspect?: boolean } = {},
): Promise<Proc & Inspectable> {
  const child = launch(
    programs.agent,
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
    [...profileFlags(profileLabel), ...(options.inspect ? INSPECT : [])],
  );
  const stop = stopper(child);
  try {
    const [, inspector] = await Promise.all([
      waitForLine(child, /connected/i),
      options.inspect ? waitForLine(child, DEBUGGER_LINE) : undefined,
    ]);
    return { child, pid: child.pid!, stop, inspector: inspector?.[1] };
  } catch (error) {
    await stop();
    throw error;
  }
}

const adminHeaders = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' };

/** Registers a client and an API key on a relay through its admin API. */
export async function provision(relayUrl: string): Promise<{ token: string; key: string }> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(relayUrl + path, {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const client = await call('/api/clients', { name: 'bench' });
  const key = await call('/api/keys', { name: 'bench' });
  return { token: client.token!, key: key.key! };
}

/** Agents that completed hello on a relay (`GET /api/stats`, `live.agents`). */
export async function liveAgents(relayUrl: string): Promise<number> {
  const res = await fetch(`${relayUrl}/api/stats`, { headers: adminHeaders });
  return ((await res.json()) as { live: { agents: number } }).live.agents;
}

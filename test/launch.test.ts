/**
 * `npm start` / `npm run agent` (scripts/launch.ts): builds the bundles only when they are missing
 * or older than a source, runs them with plain `node`, and stands between a supervisor and the
 * program without changing what either sees: signals go through, the exit status comes back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isStale } from '../scripts/launch.js';
import { track } from './support/cleanup.js';
import { ADMIN_TOKEN } from './support/relay.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the checkout, so the bundles find node_modules and package.json ("type": "module").
const OUT = join(ROOT, 'dist', `.launch-test-${process.pid}`);

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

type Launched = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<[number | null, string | null]>;
};

/** The launcher as `npm start` runs it, on OUT; `ready` (if given) awaited in its output. */
async function launch(args: string[], env: Record<string, string>, ready?: RegExp): Promise<Launched> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/launch.ts', '--out-dir', OUT, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  let output = '';
  const seen = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        if (ready?.test(output)) resolve();
      });
    }
    exited.then(() => (ready ? reject(new Error(`exited before ready:\n${output}`)) : resolve()));
  });
  track({
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  if (ready) await seen;
  return { child, output: () => output, exited };
}

/** The pids of a process's children (Linux /proc). */
const childrenOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

const relayEnv = () => ({
  ADMIN_TOKEN,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-launch-')),
});

describe('the launcher', () => {
  it('builds when the bundles are missing, not again when fresh, again when a source is newer', async () => {
    rmSync(OUT, { recursive: true, force: true });
    expect(isStale(OUT)).toBe(true);
    expect(await ensureBuilt(OUT)).toBe(true);
    const built = statSync(join(OUT, 'relay.js')).mtimeMs;

    const started = performance.now();
    expect(await ensureBuilt(OUT)).toBe(false);
    // The check on every start: a walk of the sources' mtimes, well under a second.
    expect(performance.now() - started).toBeLessThan(500);
    expect(statSync(join(OUT, 'relay.js')).mtimeMs).toBe(built);

    // A bundle older than the sources (as after an edit): rebuilt.
    const past = new Date('2001-01-01T00:00:00Z');
    utimesSync(join(OUT, 'bridge-agent.js'), past, past);
    expect(isStale(OUT)).toBe(true);
    expect(await ensureBuilt(OUT)).toBe(true);
    expect(statSync(join(OUT, 'bridge-agent.js')).mtimeMs).toBeGreaterThan(past.getTime());
    expect(isStale(OUT)).toBe(false);
  });

  it('runs the relay bundle with plain node; SIGTERM reaches it, drains, and its exit code comes back', async () => {
    await ensureBuilt(OUT);
    const relay = await launch(['relay'], relayEnv(), /listening on (http:\/\/\S+)/);
    const [bundle] = childrenOf(relay.child.pid!);
    const cmdline = readFileSync(`/proc/${bundle}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain(join(OUT, 'relay.js'));
    expect(cmdline.join(' ')).not.toContain('tsx');
    const url = /listening on (http:\/\/\S+)/.exec(relay.output())![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toEqual([0, null]);
    expect(relay.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
  });

  it('passes SIGINT to the agent and its arguments and exit code through', async () => {
    await ensureBuilt(OUT);
    const bad = await launch(['agent', '--no-such-flag'], {});
    expect(await bad.exited).toEqual([2, null]);
    expect(bad.output()).toContain('--no-such-flag');

    const agent = await launch(
      ['agent', '--relay', 'http://127.0.0.1:9', '--token', 'art_x', '--status-port', '-1'],
      {},
      /"msg":"agent started"/,
    );
    agent.child.kill('SIGINT');
    expect(await agent.exited).toEqual([0, null]);
    expect(agent.output()).toMatch(/"signal":"SIGINT".*stopping: finishing in-flight streams/);
  });

  it('dies of the signal that killed the program', async () => {
    await ensureBuilt(OUT);
    const relay = await launch(['relay'], relayEnv(), /listening on/);
    const [bundle] = childrenOf(relay.child.pid!);
    process.kill(bundle!, 'SIGKILL');
    expect(await relay.exited).toEqual([null, 'SIGKILL']);
  });

  it('refuses an unknown program', async () => {
    const wrong = await launch(['nope'], {});
    expect(await wrong.exited).toEqual([2, null]);
    expect(wrong.output()).toContain('usage: launch.ts');
  });
});

/**
 * `npm start` / `npm run agent` (scripts/launch.mjs): builds the bundles only when they are
 * missing or older than a source, then runs the bundle in the launcher's own process under plain
 * node, so a supervisor's signal or kill reaches the program itself: a SIGKILL to the process
 * group `npm start` made, a SIGTERM to the launcher or to npm, leaves no process holding a port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isStale } from '../scripts/launch.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { ADMIN_TOKEN, startTestRelay } from './support/relay.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the checkout, so the bundles find node_modules and package.json ("type": "module").
const OUT = join(ROOT, 'dist', `.launch-test-${process.pid}`);

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

type Launched = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<[number | null, string | null]>;
};

/**
 * Runs `command` on OUT, `ready` (if given) awaited in its output. `group`: in a process group of
 * its own, as a supervisor or a terminal starts it (then killed by group when the test ends).
 */
async function start(
  command: string[],
  env: Record<string, string>,
  ready?: RegExp,
  group = false,
): Promise<Launched> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), LAUNCH_OUT_DIR: OUT, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
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
      try {
        // The whole group: npm's shell and the launcher under it too.
        process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
      await exited;
    },
  });
  if (ready) await seen;
  return { child, output: () => output, exited };
}

/** The launcher as the suite runs it directly, on OUT. */
const launch = (args: string[], env: Record<string, string>, ready?: RegExp) =>
  start([process.execPath, 'scripts/launch.mjs', ...args], env, ready);

/** `npm <args>` (start, run agent) in a process group of its own, on OUT. */
const npm = (args: string[], env: Record<string, string>, ready: RegExp) =>
  start(['npm', ...args], env, ready, true);

/** The pids of a process's children (Linux /proc). */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

/** Every process below `pid`. */
const descendants = (pid: number): number[] =>
  childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);

/** Running: a /proc entry that is not a zombie waiting to be reaped. */
const running = (pid: number) => {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

/** Whether a TCP connect to 127.0.0.1:`port` is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

const relayEnv = () => ({
  ADMIN_TOKEN,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-launch-')),
});

const RELAY_READY = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
/** The agent's start line, with its status server's URL; its relay address answers nothing. */
const AGENT_READY = /"status":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"agent started"/;
const AGENT_ARGS = ['--relay', 'http://127.0.0.1:9', '--token', 'art_x', '--status-port', '0'];
const portOf = (launched: Launched, ready: RegExp) => Number(ready.exec(launched.output())![1]);

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

  it('runs the relay bundle in its own process under plain node; SIGTERM drains, and its exit code comes back', async () => {
    await ensureBuilt(OUT);
    const relay = await launch(['relay'], relayEnv(), RELAY_READY);
    // One process: no child to outlive it (esbuild's service stopped), and no TypeScript loader.
    expect(childrenOf(relay.child.pid!)).toEqual([]);
    expect(process.execArgv.join(' ')).not.toContain(
      readFileSync(`/proc/${relay.child.pid}/cmdline`, 'utf8'),
    );
    expect(readFileSync(`/proc/${relay.child.pid}/cmdline`, 'utf8')).not.toContain('tsx');
    const port = portOf(relay, RELAY_READY);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toEqual([0, null]);
    expect(relay.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(await refused(port)).toBe(true);
  });

  it('passes SIGINT to the agent and its arguments and exit code through', async () => {
    await ensureBuilt(OUT);
    const bad = await launch(['agent', '--no-such-flag'], {});
    expect(await bad.exited).toEqual([2, null]);
    expect(bad.output()).toContain('--no-such-flag');

    const agent = await launch(['agent', ...AGENT_ARGS], {}, AGENT_READY);
    agent.child.kill('SIGINT');
    expect(await agent.exited).toEqual([0, null]);
    expect(agent.output()).toMatch(/"signal":"SIGINT".*stopping: finishing in-flight streams/);
  });

  it('refuses an unknown program', async () => {
    const wrong = await launch(['nope'], {});
    expect(await wrong.exited).toEqual([2, null]);
    expect(wrong.output()).toContain('usage: launch.mjs');
  });
});

describe('npm start / npm run agent under a supervisor', () => {
  /** Kills `npm`'s whole tree the way `kill -- -PGID` does; asserts the port and every process go. */
  async function killGroup(launched: Launched, port: number) {
    const tree = [launched.child.pid!, ...descendants(launched.child.pid!)];
    expect(tree.length).toBeGreaterThanOrEqual(2);
    expect(await refused(port)).toBe(false);
    process.kill(-launched.child.pid!, 'SIGKILL');
    await expect.poll(() => refused(port), { timeout: 1_000, interval: 20 }).toBe(true);
    await expect.poll(() => tree.filter(running), { timeout: 2_000, interval: 20 }).toEqual([]);
  }

  it('SIGKILL to the process group npm start made closes the relay port within a second, nothing left', async () => {
    await ensureBuilt(OUT);
    const relay = await npm(['start'], relayEnv(), RELAY_READY);
    await killGroup(relay, portOf(relay, RELAY_READY));
  });

  it('SIGKILL to the process group npm run agent made closes the status port within a second, nothing left', async () => {
    await ensureBuilt(OUT);
    const agent = await npm(['run', 'agent', '--', ...AGENT_ARGS], {}, AGENT_READY);
    await killGroup(agent, portOf(agent, AGENT_READY));
  });

  it('SIGTERM to the launcher alone drains the relay and leaves no process', async () => {
    await ensureBuilt(OUT);
    const relay = await npm(['start'], relayEnv(), RELAY_READY);
    const port = portOf(relay, RELAY_READY);
    const tree = [relay.child.pid!, ...descendants(relay.child.pid!)];
    // node scripts/launch.mjs relay, under npm's `sh -c`.
    const launcher = tree.find(
      (pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === 'scripts/launch.mjs',
    );
    process.kill(launcher!, 'SIGTERM');
    expect(await relay.exited).toEqual([0, null]);
    expect(relay.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(await refused(port)).toBe(true);
    await expect.poll(() => tree.filter(running), { timeout: 2_000, interval: 20 }).toEqual([]);
  });

  it('SIGTERM to npm alone (its shell dies of it) drains the agent and leaves no process', async () => {
    await ensureBuilt(OUT);
    const agent = await npm(['run', 'agent', '--', ...AGENT_ARGS], {}, AGENT_READY);
    const port = portOf(agent, AGENT_READY);
    const tree = [agent.child.pid!, ...descendants(agent.child.pid!)];
    agent.child.kill('SIGTERM');
    await expect.poll(() => refused(port), { timeout: 5_000, interval: 20 }).toBe(true);
    await expect.poll(() => tree.filter(running), { timeout: 5_000, interval: 20 }).toEqual([]);
    await expect.poll(() => agent.output(), { timeout: 5_000 }).toMatch(/"signal":"SIGTERM".*stopping/);
  });

  it('Ctrl-C (SIGINT to the whole group, npm included): once drains the agent, twice stops it', async () => {
    await ensureBuilt(OUT);
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge({ scenario: 'hang' }));
    const agent = await npm(
      [
        'run',
        'agent',
        '--',
        '--relay',
        relay.url,
        '--token',
        token,
        '--upstream',
        bridge.url,
        '--status-port',
        '0',
      ],
      {},
      AGENT_READY,
    );
    const port = portOf(agent, AGENT_READY);
    await expect.poll(() => relay.hub.list().filter((s) => s.routable).length, { timeout: 10_000 }).toBe(1);
    const aborts = new AbortController();
    fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      signal: aborts.signal,
    }).catch(() => undefined);
    await expect.poll(() => bridge.openStreams, { timeout: 10_000 }).toBe(1);

    process.kill(-agent.child.pid!, 'SIGINT');
    await expect
      .poll(() => agent.output(), { timeout: 5_000 })
      .toMatch(/stopping: finishing in-flight streams/);
    // Draining, not stopped: the stream holds it, its socket and status port stay. (npm passing a
    // second SIGINT on, as it would to a child that got the terminal's too, would stop it now.)
    expect(await refused(port)).toBe(false);
    expect(relay.hub.list()).toHaveLength(1);
    expect(agent.output().match(/stopping: finishing/g)).toHaveLength(1);

    const tree = [agent.child.pid!, ...descendants(agent.child.pid!)];
    process.kill(-agent.child.pid!, 'SIGINT');
    await agent.exited;
    await expect.poll(() => refused(port), { timeout: 2_000, interval: 20 }).toBe(true);
    await expect.poll(() => tree.filter(running), { timeout: 2_000, interval: 20 }).toEqual([]);
    aborts.abort();
  });
});

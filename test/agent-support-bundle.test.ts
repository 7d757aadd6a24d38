/**
 * `doctor --bundle`: the zip a bridge owner sends to the operator holds the checks, versions, the
 * config without its secrets, the last log lines and the running agent's status; and no byte of
 * it holds the client token, the bridge's API key or the proxy password, not even where a log
 * line or the journal leaked them.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { CommandContext, RunResult } from '../bridge-agent/src/commands/context.js';
import { runDoctor } from '../bridge-agent/src/commands/doctor.js';
import { ok } from '../bridge-agent/src/doctor/check-line.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startConnectProxy } from './support/proxies.js';
import { startTestRelay } from './support/relay.js';

const BRIDGE_KEY = 'bridge-KEY-marker-5f0a9d';
const PROXY_PASSWORD = 'proxy-PASS-marker-e3b7c2';

function context(dir: string, argv: string[], out: string[], journal: string): CommandContext {
  return {
    argv,
    env: {},
    cwd: dir,
    platform: 'linux',
    homeDir: dir,
    user: { name: 'owner', uid: 1000 },
    execPath: process.execPath,
    execArgv: [],
    entry: join(dir, 'arena-agent.mjs'),
    nodeVersion: process.versions.node,
    run: async (program, args): Promise<RunResult> =>
      program === 'journalctl' && args.includes('arena-agent.service')
        ? { code: 0, stdout: journal, stderr: '' }
        : { code: 127, stdout: '', stderr: 'not found' },
    interactive: false,
    ask: async () => '',
    out: (line) => out.push(line),
    err: (line) => out.push(line),
  };
}

/** The one zip doctor wrote into `dir`, unpacked, and its raw bytes. */
function unpack(dir: string): { files: Record<string, string>; raw: Buffer; mode: number } {
  const zips = readdirSync(dir).filter((name) => /^arena-agent-diagnostics-\d{8}-\d{6}\.zip$/.test(name));
  expect(zips).toHaveLength(1);
  const path = join(dir, zips[0]!);
  const raw = readFileSync(path);
  const files = Object.fromEntries(
    Object.entries(unzipSync(raw)).map(([name, bytes]) => [name, strFromU8(bytes)]),
  );
  return { files, raw, mode: statSync(path).mode & 0o777 };
}

/** Asserts no form of `secret` is anywhere in the bundle: raw bytes, each file, base64 of it. */
function expectAbsent(bundle: { files: Record<string, string>; raw: Buffer }, secret: string): void {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64').slice(0, 16)];
  for (const form of forms) {
    expect(bundle.raw.includes(form), `raw zip holds ${form}`).toBe(false);
    for (const [name, text] of Object.entries(bundle.files))
      expect(text.includes(form), `${name} holds ${form}`).toBe(false);
  }
  for (let i = 0; i + 12 <= secret.length; i++) {
    const piece = secret.slice(i, i + 12);
    for (const [name, text] of Object.entries(bundle.files))
      expect(text.includes(piece), `${name} holds ${piece}`).toBe(false);
  }
}

describe('doctor --bundle', () => {
  it('holds the checks, versions, redacted config, logs and the running agent status; no secret in any byte', async () => {
    const bridge = track(await startFakeBridge({ apiKey: BRIDGE_KEY }));
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const proxy = track(
      await startConnectProxy({
        hosts: { 'relay.test': '127.0.0.1' },
        auth: { user: 'owner', pass: PROXY_PASSWORD },
      }),
    );
    const proxyUrl = `http://owner:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
    const hidden = relay.url.replace('127.0.0.1', 'relay.test');
    // The running agent, with a status server on a free port that the config then names.
    const agent = await startTestAgent(hidden, token, bridge.url, {
      proxyUrl,
      upstreamApiKey: BRIDGE_KEY,
      statusPort: 0,
    });
    const statusPort = Number(new URL(agent.statusUrl!).port);

    const dir = mkdtempSync(join(tmpdir(), 'arena-bundle-'));
    const configPath = join(dir, 'config.jsonc');
    writeFileSync(
      configPath,
      `{
  // the owner's config, with every secret in it
  "platform_integration": { "platform_url": "${hidden}", "api_key": "${token}" },
  "upstream_url": "${bridge.url}",
  "upstream_api_key": "${BRIDGE_KEY}",
  "proxy_url": "${proxyUrl}",
  "status_port": ${statusPort}
}`,
    );
    // A log that leaked every secret (an old version, a pasted command line): the bundle blanks them.
    const logLines = Array.from({ length: 300 }, (_, i) => `{"level":30,"msg":"line ${i}"}`);
    logLines.push(`{"level":40,"msg":"started with --token ${token} --proxy ${proxyUrl}"}`);
    writeFileSync(join(dir, 'arena-agent.log'), `${logLines.join('\n')}\n`);
    const journal = `Dec 06 agent[1]: bridge key ${BRIDGE_KEY} and proxy auth ${Buffer.from(`owner:${PROXY_PASSWORD}`).toString('base64')}\n`;

    const out: string[] = [];
    const code = await runDoctor(context(dir, ['--bundle', '--config', configPath], out, journal), {
      serveProbe: async () => ok('bridge serves', 'probe skipped'),
    });
    expect(code).toBe(1); // plain ws:// to a non-loopback name fails "relay transport"
    expect(out.at(-1)).toMatch(/^bundle: .*arena-agent-diagnostics-\d{8}-\d{6}\.zip -> send this file/);

    const bundle = unpack(dir);
    expect(bundle.mode).toBe(0o600);
    expect(Object.keys(bundle.files).sort()).toEqual([
      'README.txt',
      'checks.json',
      'checks.txt',
      'config.json',
      'logs.txt',
      'stats.json',
      'status.json',
      'versions.json',
    ]);
    const { files } = bundle;
    expect(files['checks.txt']).toMatch(
      /^ok {4}proxy: http:\/\/\*\*\*@127\.0\.0\.1:\d+ \(from proxy_url\): the relay answers through it$/m,
    );
    expect(files['checks.txt']).toMatch(/^ok {4}token: accepted by the relay \[tid_[0-9a-f]{12}\]$/m);
    expect(JSON.parse(files['checks.json']!).lines.length).toBeGreaterThan(4);
    expect(JSON.parse(files['versions.json']!)).toMatchObject({
      node: process.versions.node,
      platform: 'linux',
      arch: process.arch,
      agent: expect.any(String),
      os: expect.any(String),
    });
    const config = JSON.parse(files['config.json']!);
    expect(config.file).toBe(configPath);
    expect(config.settings).toMatchObject({
      'platform_integration.api_key': '[redacted]',
      upstream_api_key: '[redacted]',
      proxy_url: `http://***@127.0.0.1:${proxy.port}`,
      upstream_url: bridge.url,
      status_port: statusPort,
    });
    const status = JSON.parse(files['status.json']!);
    expect(status).toMatchObject({ connected: true, ready: true });
    expect(JSON.parse(files['stats.json']!)).toHaveProperty('started_at');
    // The last 200 lines of the log file (the leak among them, blanked) and the journal.
    expect(files['logs.txt']).toContain('line 299');
    expect(files['logs.txt']).not.toContain('"line 99"');
    expect(files['logs.txt']).toContain(
      'started with --token [redacted] --proxy http://[redacted]@127.0.0.1',
    );
    expect(files['logs.txt']).toContain('bridge key [redacted] and proxy auth [redacted]');
    for (const secret of [token, BRIDGE_KEY, PROXY_PASSWORD]) expectAbsent(bundle, secret);
  });

  it('with an unusable config and no agent running, the bundle still says why, without the token', async () => {
    const token = 'art_TOKEN-marker-unusable-0c4d1e';
    const dir = mkdtempSync(join(tmpdir(), 'arena-bundle-'));
    const out: string[] = [];
    const code = await runDoctor(
      context(
        dir,
        [
          '--bundle',
          '--token',
          token,
          '--relay',
          'ftp://nowhere',
          '--proxy',
          `gopher://u:${PROXY_PASSWORD}@x:1`,
        ],
        out,
        '',
      ),
    );
    expect(code).toBe(2);
    const bundle = unpack(dir);
    expect(bundle.files['checks.txt']).toMatch(/^fail {2}config: cannot be used/m);
    expect(bundle.files['checks.txt']).toMatch(/platform_url \(from --relay\)/);
    expect(JSON.parse(bundle.files['config.json']!).problems.length).toBeGreaterThanOrEqual(2);
    expect(bundle.files['status.txt']).toMatch(/not asked: the config cannot be used/);
    expect(bundle.files).not.toHaveProperty('logs.txt');
    for (const secret of [token, PROXY_PASSWORD]) expectAbsent(bundle, secret);
  });

  it('a config naming a status port nobody listens on: status.txt says the agent is not running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-bundle-'));
    const out: string[] = [];
    const dead = await startConnectProxy();
    await dead.close();
    const argv = [
      '--bundle',
      '--token',
      'art_x',
      '--relay',
      'http://127.0.0.1:9',
      '--upstream',
      'http://127.0.0.1:9',
    ];
    await runDoctor(context(dir, [...argv, '--status-port', String(dead.port)], out, ''), {
      relayTimeoutMs: 2_000,
    });
    expect(unpack(dir).files['status.txt']).toMatch(
      new RegExp(`no agent answered on 127\\.0\\.0\\.1:${dead.port} \\(ECONNREFUSED\\): it is not running`),
    );
  });
});

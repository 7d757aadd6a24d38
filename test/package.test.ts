/**
 * The client package (`GET /api/clients/{id}/download`): its files and modes, the prefilled
 * config, the token rotation it implies, the relay address it writes (PUBLIC_URL, the request,
 * TRUST_PROXY) — and the bundled agent, unzipped into an empty folder and run with plain `node`,
 * serving a streamed completion.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RELEASE_FILE } from '@arena-relay/shared';
import { unzipSync } from 'fflate';
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { generateReleaseKey, signRelease } from '../bridge-agent/src/update/release-signature.js';
import { bundleOf } from '../relay/src/package/agent-bundle.js';
import { hashSecret } from '../relay/src/store/secrets.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

/** Runs the package's setup_client.sh in `cwd` with only PATH set; resolves with its exit code. */
function runSetupScript(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['setup_client.sh', ...args],
      { cwd, env: { PATH: process.env.PATH ?? '' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

type PackageConfig = {
  platform_integration: { platform_url: string; client_id: string; api_key: string; capabilities: string[] };
  upstream_url: string;
  status_port: number;
};

async function download(relay: TestRelay, id: string, headers: Record<string, string> = {}, query = '') {
  const res = await fetch(`${relay.url}/api/clients/${id}/download${query}`, {
    headers: { authorization: `Bearer ${relay.adminToken}`, ...headers },
  });
  return { res, zip: new Uint8Array(await res.arrayBuffer()) };
}

/** Unix modes of the zip's entries, from its central directory. */
function zipModes(zip: Uint8Array): Map<string, number> {
  const view = Buffer.from(zip);
  const eocd = view.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = view.readUInt16LE(eocd + 10);
  let at = view.readUInt32LE(eocd + 16);
  const modes = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const nameLength = view.readUInt16LE(at + 28);
    const extraLength = view.readUInt16LE(at + 30);
    const commentLength = view.readUInt16LE(at + 32);
    const external = view.readUInt32LE(at + 38);
    modes.set(view.toString('utf8', at + 46, at + 46 + nameLength), external >>> 16);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return modes;
}

/** Writes the zip's entries under `dir` with their modes; returns the package folder. */
function extract(zip: Uint8Array, dir: string): string {
  const modes = zipModes(zip);
  for (const [name, data] of Object.entries(unzipSync(zip))) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data, { mode: (modes.get(name) ?? 0o644) & 0o777 });
  }
  const [folder] = readdirSync(dir);
  return join(dir, folder!);
}

function configOf(zip: Uint8Array, id: string): PackageConfig {
  const files = unzipSync(zip);
  const text = new TextDecoder().decode(files[`arena-agent-${id}/config.jsonc`]);
  return parse(text) as PackageConfig;
}

describe('GET /api/clients/{id}/download', () => {
  it('returns arena-agent-{id}.zip with every file, prefilled, and retires the previous token (grace 0)', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/clients', {
      name: 'Zoë "bridge" \nnewline',
      lmarena_bridge_url: bridge.url,
      capabilities: ['chat', 'images'],
    });
    const { id } = created.json.client;
    const oldAgent = await startTestAgent(relay.url, created.json.token, bridge.url);
    const dropped = new Promise<string>((resolve) => oldAgent.once('disconnected', resolve));

    const { res, zip } = await download(relay, id, {}, '?grace_seconds=0');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="arena-agent-${id}.zip"`);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const modes = zipModes(zip);
    const folder = `arena-agent-${id}`;
    expect([...modes.keys()].sort()).toEqual(
      [
        'arena-agent.mjs',
        'config.jsonc',
        'setup_client.sh',
        'setup_client.ps1',
        'Dockerfile',
        'docker-compose.yml',
        '.env.example',
        'README.md',
      ]
        .map((f) => `${folder}/${f}`)
        .sort(),
    );
    expect(modes.get(`${folder}/setup_client.sh`)).toBe(0o100755);
    expect(modes.get(`${folder}/config.jsonc`)).toBe(0o100600);

    const config = configOf(zip, id);
    expect(config.platform_integration).toMatchObject({
      platform_url: relay.url,
      client_id: id,
      capabilities: ['chat', 'images'],
    });
    expect(config.upstream_url).toBe(bridge.url);
    const token = config.platform_integration.api_key;
    expect(token).toMatch(/^art_/);
    expect(token).not.toBe(created.json.token);

    // The old token is retired: its socket closed, the new one is what the store now knows.
    expect(await dropped).toMatch(/token/);
    const client = (await relay.admin('GET', `/api/clients/${id}`)).json.client;
    expect(client.token_preview).toBe(`${token.slice(0, 10)}…`);
    const fresh = await startTestAgent(relay.url, token, bridge.url);
    expect(fresh.sessionId).toMatch(/^ses_/);

    const text = (name: string) => new TextDecoder().decode(unzipSync(zip)[`${folder}/${name}`]);
    expect(text('setup_client.sh')).toMatch(/^#!\/bin\/sh\n/);
    expect(text('setup_client.sh')).not.toContain('Zoë');
    // Both scripts are thin: they find Node.js and hand every argument to the one `setup` entry point.
    expect(text('setup_client.sh')).toContain('exec node arena-agent.mjs setup "$@"\n');
    const ps1 = text('setup_client.ps1');
    // ASCII only: Windows PowerShell 5.1 reads a file without BOM in the ANSI code page.
    expect([...ps1].every((ch) => ch === '\r' || ch === '\n' || (ch >= ' ' && ch <= '~'))).toBe(true);
    expect(ps1.split('\r\n').every((line) => !line.includes('\n'))).toBe(true);
    expect(ps1).toContain(
      "& $node.Source (Join-Path $PSScriptRoot 'arena-agent.mjs') setup @args\r\nexit $LASTEXITCODE\r\n",
    );
    expect(ps1).toContain('Get-Command node');
    expect(modes.get(`${folder}/setup_client.ps1`)).toBe(0o100644);
    expect(text('Dockerfile')).toContain('FROM node:20');
    expect(text('docker-compose.yml')).toContain('./config.jsonc:/app/config.jsonc:ro');
    expect(text('README.md')).toContain('new** token and retires the old');
    // The package names its token by id, never by its secret, and says the old one is gone.
    const tokenId = `tid_${hashSecret(token).slice(0, 12)}`;
    expect(text('README.md')).toContain(`holds token **${tokenId}**`);
    expect(text('README.md')).toContain('replaced was retired at once');
    expect(text('README.md')).not.toContain(token);
    // Owners are pointed to their bridge's own page, on the port their config.jsonc sets.
    const statusPort = /"status_port": (\d+)/.exec(text('config.jsonc'))?.[1];
    expect(statusPort).toBeDefined();
    expect(text('README.md')).toContain(`Open **http://127.0.0.1:${statusPort}/** in a browser`);
    expect(text('README.md')).toContain('failures by reason with the fix in plain words');
    expect(text('config.jsonc')).toContain(`// The client token ${tokenId}`);
    expect(text('arena-agent.mjs')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('answers 404 for an unknown client', async () => {
    const relay = await startTestRelay();
    const { res } = await download(relay, 'cl_nope');
    expect(res.status).toBe(404);
  });

  it('writes PUBLIC_URL, else the request host, and believes X-Forwarded-* only with TRUST_PROXY', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'relay.example.com' };

    const plain = await startTestRelay();
    const a = await plain.createClient();
    const direct = configOf((await download(plain, a.id, forwarded)).zip, a.id);
    expect(direct.platform_integration.platform_url).toBe(plain.url);

    const proxied = await startTestRelay({ trustProxy: true });
    const b = await proxied.createClient();
    const behind = configOf((await download(proxied, b.id, forwarded)).zip, b.id);
    expect(behind.platform_integration.platform_url).toBe('https://relay.example.com');

    const pinned = await startTestRelay({ publicUrl: 'https://arena.example.org/relay/', trustProxy: true });
    const c = await pinned.createClient();
    const fixed = configOf((await download(pinned, c.id, forwarded)).zip, c.id);
    expect(fixed.platform_integration.platform_url).toBe('https://arena.example.org/relay');
  });

  it('runs: the unzipped agent, alone in its folder, serves a streamed completion with plain node', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/clients', {
      name: 'packaged',
      lmarena_bridge_url: bridge.url,
    });
    const { id } = created.json.client;
    const { key } = await relay.createKey();
    const dir = extract((await download(relay, id)).zip, mkdtempSync(join(tmpdir(), 'arena-package-')));
    expect(statSync(join(dir, 'setup_client.sh')).mode & 0o777).toBe(0o755);

    // The setup script hands over to `setup`: a flag goes into config.jsonc, the checks pass
    // against the live relay and bridge, and no service is installed when told not to.
    const setup = await runSetupScript(['--no-service', '--max-concurrency', '3'], dir);
    expect(setup.code, setup.stdout + setup.stderr).toBe(0);
    expect(setup.stdout).toContain('(max_concurrency)');
    expect(setup.stdout).toContain('ok    bridge can serve');
    expect(setup.stdout).toContain('start the agent with: node arena-agent.mjs');
    expect(parse(readFileSync(join(dir, 'config.jsonc'), 'utf8')).max_concurrency).toBe(3);
    const refused = await runSetupScript(['--service', '--no-service'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--service and --no-service exclude each other');

    // The agent honours the file's logging settings: one line per finished request when asked.
    const configPath = join(dir, 'config.jsonc');
    const configText = readFileSync(configPath, 'utf8');
    expect(configText).toContain('"enable_request_logging": false');
    writeFileSync(
      configPath,
      configText.replace('"enable_request_logging": false', '"enable_request_logging": true'),
    );

    const connected = new Promise<string>((resolve) =>
      relay.hub.once('session', (s) => resolve(s.client.id)),
    );
    const child: ChildProcess = spawn(process.execPath, ['arena-agent.mjs'], {
      cwd: dir,
      // No NODE_OPTIONS/NODE_PATH from the test runner: the bundle must stand alone.
      env: { PATH: process.env.PATH ?? '', AGENT_STATUS_PORT: '-1', AGENT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    track({
      async close() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const first = await Promise.race([connected, exited.then((code) => `exited ${code}: ${output}`)]);
    expect(first).toBe(id);

    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let content = '';
    for (const line of (await res.text()).split('\n')) {
      if (!line.startsWith('data: {')) continue;
      content += JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '';
    }
    expect(content).toBe(DEFAULT_CHUNKS.join(''));
    expect(output).toContain('"msg":"connected to the relay"');
    // The agent logs the line once the stream has ended, which may be just after the consumer's end.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request line in:\n${output}`)), 5_000);
      const check = () => {
        if (!output.includes('"msg":"request finished"')) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
    });
    const line = output.split('\n').find((l) => l.includes('"msg":"request finished"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ model: 'gpt-5', status: 200, outcome: 'ended' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('a relay serving a signed release (AGENT_RELEASE_DIR)', () => {
  /** A release folder as `npm run release:sign` writes it, around a stand-in bundle (never run here). */
  function releaseDir(code: Buffer, version = '0.2.0') {
    const dir = mkdtempSync(join(tmpdir(), 'arena-release-'));
    const key = generateReleaseKey();
    const release = {
      version,
      sha256: createHash('sha256').update(code).digest('hex'),
      bytes: code.byteLength,
    };
    const manifest = {
      format: 'arena-agent-release/1',
      ...release,
      key: key.publicKey,
      signature: signRelease(key.privateKeyPem, release),
    };
    writeFileSync(join(dir, 'arena-agent.mjs'), code);
    writeFileSync(join(dir, RELEASE_FILE), JSON.stringify(manifest));
    return { dir, key: key.publicKey };
  }

  it('ships that bundle, and the package pins its key as release_key', async () => {
    const code = Buffer.from('#!/usr/bin/env node\n// Arena Relay bridge agent 0.2.0, bundled\n');
    const { dir, key } = releaseDir(code);
    const relay = await startTestRelay({ agentReleaseDir: dir });
    const { id } = await relay.createClient();
    const { res, zip } = await download(relay, id);
    expect(res.status).toBe(200);
    expect(Buffer.from(unzipSync(zip)[`arena-agent-${id}/arena-agent.mjs`]!)).toEqual(code);
    const config = configOf(zip, id) as PackageConfig & { platform_integration: { release_key?: string } };
    expect(config.platform_integration.release_key).toBe(key);
  });

  it('a release whose bundle is not the one its manifest signs stops the relay at start', async () => {
    const { dir } = releaseDir(Buffer.from('console.log("signed")\n'));
    writeFileSync(join(dir, 'arena-agent.mjs'), 'console.log("swapped")\n');
    await expect(startTestRelay({ agentReleaseDir: dir })).rejects.toThrow(/not the bundle .* signs/);
    writeFileSync(join(dir, RELEASE_FILE), '{"format":"arena-agent-release/1"}');
    await expect(startTestRelay({ agentReleaseDir: dir })).rejects.toThrow(/arena-agent\.release\.json/);
  });

  it('without one, the package pins no key', async () => {
    const relay = await startTestRelay({
      agentBundle: async () => bundleOf({ code: Buffer.from('// unsigned\n'), version: '0.1.0' }),
    });
    const { id } = await relay.createClient();
    const { zip } = await download(relay, id);
    expect(JSON.stringify(configOf(zip, id))).not.toContain('release_key');
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recording } from '../test-support/replay.js';
import type { CommandContext } from './context.js';
import { runSetup } from './setup.js';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

/** CloudWaddie's bridge from its recordings, taking only `sk-lmab-good`. */
async function cloudwaddie(): Promise<string> {
  server = createServer((req, res) => {
    const key = req.headers.authorization === 'Bearer sk-lmab-good';
    const name =
      req.url === '/api/v1/health'
        ? 'health.txt'
        : req.url === '/api/v1/models'
          ? key
            ? 'models-withkey.txt'
            : 'models-wrongkey.txt'
          : undefined;
    if (!name)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    const rec = recording('cloudwaddie', name);
    res.writeHead(rec.status, { 'content-type': rec.headers['content-type'] ?? '' }).end(rec.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/api/v1`;
}

function context(answers: string[], out: string[]): CommandContext {
  dir = mkdtempSync(join(tmpdir(), 'setup-bridge-'));
  const questions: string[] = [];
  return {
    argv: ['--relay', 'ws://127.0.0.1:1', '--token', 'tok', '--no-service'],
    env: {},
    cwd: dir,
    platform: 'linux',
    homeDir: dir,
    user: { name: 'owner', uid: 1000 },
    execPath: process.execPath,
    execArgv: [],
    entry: join(dir, 'arena-agent.mjs'),
    nodeVersion: process.versions.node,
    run: async () => ({ code: 0, stdout: '', stderr: '' }),
    interactive: true,
    ask: async (question) => {
      questions.push(question);
      out.push(`? ${question}`);
      return answers.shift() ?? '';
    },
    out: (line) => out.push(line),
    err: (line) => out.push(line),
  };
}

describe('setup asks for the bridge', () => {
  it('writes the address and key typed in, then checks them against the bridge', async () => {
    const url = await cloudwaddie();
    const out: string[] = [];
    const ctx = context([url, 'sk-lmab-bad'], out);
    await runSetup(ctx, { relayTimeoutMs: 500, bridgeTimeoutMs: 2000 });
    const written = readFileSync(join(dir!, 'config.jsonc'), 'utf8');
    expect(written).toContain(`"upstream_url": "${url}"`);
    expect(written).toContain('"upstream_api_key": "sk-lmab-bad"');
    const text = out.join('\n');
    expect(text).toContain("CloudWaddie's LMArenaBridge: http://127.0.0.1:8000");
    expect(text).toMatch(/ok\s+bridge dialect: lmarenabridge-cw/);
    expect(text).toMatch(/fail\s+bridge reachable: .*Invalid API Key.* -> set upstream_api_key .*sk-lmab-/);
    // The key is never echoed back in the report.
    expect(out.filter((line) => !line.startsWith('?')).join('\n')).not.toContain('sk-lmab-bad');
  });

  it('asks nothing the file already says', async () => {
    const out: string[] = [];
    const ctx = context([], out);
    ctx.argv = [...ctx.argv, '--upstream', 'http://127.0.0.1:1'];
    ctx.env = { AGENT_UPSTREAM_API_KEY: 'k' };
    await runSetup(ctx, { relayTimeoutMs: 500, bridgeTimeoutMs: 500 });
    expect(out.filter((line) => line.startsWith('?'))).toEqual([]);
  });
});

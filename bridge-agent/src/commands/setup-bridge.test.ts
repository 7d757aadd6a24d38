import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandContext } from '../test-support/command-context.js';
import { type RecordedBridge, serveCloudwaddie } from '../test-support/recorded-cloudwaddie.js';
import type { CommandContext } from './context.js';
import { runSetup } from './setup.js';

let bridge: RecordedBridge | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bridge?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bridge = undefined;
  dir = undefined;
});

/** CloudWaddie's bridge from its recordings (its API root), taking only `sk-lmab-good`. */
async function cloudwaddie(): Promise<string> {
  bridge = await serveCloudwaddie();
  return `${bridge.url}/api/v1`;
}

function context(answers: string[], out: string[]): CommandContext {
  dir = mkdtempSync(join(tmpdir(), 'setup-bridge-'));
  const questions: string[] = [];
  return commandContext(out, {
    argv: ['--relay', 'ws://127.0.0.1:1', '--token', 'tok', '--no-service'],
    cwd: dir,
    homeDir: dir,
    entry: join(dir, 'arena-agent.mjs'),
    interactive: true,
    ask: async (question) => {
      questions.push(question);
      out.push(`? ${question}`);
      return answers.shift() ?? '';
    },
  });
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

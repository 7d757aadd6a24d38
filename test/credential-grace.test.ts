/**
 * Credentials rotate with a grace period (issue 19, finding 8). A second package download issues
 * a new client token; the agent still running with the first keeps serving through the grace,
 * then the relay closes its socket saying the token was replaced, and the agent stops with the
 * exit code its service does not restart (78 under systemd) instead of failing into a loop.
 * A regenerated API key keeps its old secret through the same grace.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { EXIT_CREDENTIAL_REFUSED } from '../bridge-agent/src/exit-codes.js';
import { TOKEN_ROTATED_MESSAGE } from '../bridge-agent/src/tunnel/relay-refusal.js';
import { startAgentProcess } from './support/agent-process.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const CLI = fileURLToPath(new URL('../bridge-agent/src/cli.ts', import.meta.url));

/** Downloads the client's package; returns the token its config.jsonc holds. */
async function downloadToken(relay: TestRelay, id: string): Promise<string> {
  const res = await fetch(`${relay.url}/api/clients/${id}/download`, {
    headers: { authorization: `Bearer ${relay.adminToken}` },
  });
  expect(res.status).toBe(200);
  const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
  const config = parse(new TextDecoder().decode(files[`arena-agent-${id}/config.jsonc`])) as {
    platform_integration: { api_key: string };
  };
  return config.platform_integration.api_key;
}

async function chat(relay: TestRelay, key: string): Promise<number> {
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.status;
}

describe('credential grace', () => {
  it('download twice: the first token serves through the grace, then its agent is told and stops for good', {
    timeout: 30_000,
  }, async () => {
    const bridge = track(await startFakeBridge());
    // A short grace keeps the test fast; the default (300 s) is the same code path.
    const relay = await startTestRelay({ credentialGraceMs: 2_500 });
    const { id } = await relay.createClient();
    const { key } = await relay.createKey();
    const first = await downloadToken(relay, id);
    const agent = await startAgentProcess([
      '--relay',
      relay.url,
      '--token',
      first,
      '--upstream',
      bridge.url,
      '--service-manager',
      'systemd',
    ]);
    let output = '';
    for (const stream of [agent.child.stdout!, agent.child.stderr!])
      stream.on('data', (c: string) => (output += c));
    const exitCode = new Promise<number | null>((resolve) =>
      agent.child.once('exit', (code) => resolve(code)),
    );

    const downloadedAt = Date.now();
    const second = await downloadToken(relay, id);
    expect(second).not.toBe(first);
    // Within the grace the agent holding the first token still serves.
    expect(await chat(relay, key)).toBe(200);
    expect(Date.now() - downloadedAt).toBeLessThan(2_500);
    expect(agent.child.exitCode).toBeNull();

    // After it: closed by the relay, refused as rotated, and the process ends with the no-restart code.
    expect(await exitCode).toBe(EXIT_CREDENTIAL_REFUSED);
    expect(Date.now() - downloadedAt).toBeGreaterThanOrEqual(2_400);
    const words = output.split('\n').filter((line) => line.includes(TOKEN_ROTATED_MESSAGE));
    expect(words).toHaveLength(1);
    expect(JSON.parse(words[0]!)).toMatchObject({ level: 60, exitCode: EXIT_CREDENTIAL_REFUSED });
    expect(output).not.toContain(first.slice(4));
    // Nobody serves the client now; the second token would.
    expect(await chat(relay, key)).toBe(503);
  });

  it('an agent started with a token past its grace is refused in words and exits with its manager’s no-restart code', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient();
    expect((await relay.admin('POST', `/api/clients/${id}/rotate-token?grace_seconds=0`)).status).toBe(200);
    // Under the Scheduled Task (and launchd) only a successful exit is left alone: 0, said in words.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--relay',
        relay.url,
        '--token',
        token,
        '--status-port',
        '-1',
        '--service-manager',
        'task-scheduler',
      ],
      { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    track({ close: async () => void child.kill('SIGKILL') });
    let output = '';
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    const words = output.split('\n').filter((line) => line.includes(TOKEN_ROTATED_MESSAGE));
    expect(words).toHaveLength(1);
    expect(JSON.parse(words[0]!)).toMatchObject({ level: 60, exitCode: 0 });
    expect(output).not.toContain(token.slice(4));
  });

  it('a regenerated key: the old secret works through the grace, not after; 0 retires it at once', async () => {
    const relay = await startTestRelay({ credentialGraceMs: 60_000 });
    const { id, key: old } = await relay.createKey();
    const regenerated = await relay.admin('POST', `/api/keys/${id}/regenerate`);
    expect(regenerated.status).toBe(200);
    const fresh: string = regenerated.json.key;
    expect(fresh).toMatch(/^sk-ar-/);
    expect(regenerated.json.api_key).toMatchObject({ id, preview: `${fresh.slice(0, 10)}…` });
    expect(Date.parse(regenerated.json.previous_key_valid_until)).toBeGreaterThan(Date.now() + 50_000);
    // 503 (no agent): past auth. Both secrets work during the grace.
    expect(await chat(relay, old)).toBe(503);
    expect(await chat(relay, fresh)).toBe(503);
    // Regenerated again with grace 0 (a leak): both earlier secrets are refused at once.
    const leaked = await relay.admin('POST', `/api/keys/${id}/regenerate?grace_seconds=0`);
    expect(leaked.json.previous_key_valid_until).toBeNull();
    expect(await chat(relay, old)).toBe(401);
    expect(await chat(relay, fresh)).toBe(401);
    expect(await chat(relay, leaked.json.key)).toBe(503);
    expect((await relay.admin('POST', '/api/keys/key_nope/regenerate')).status).toBe(404);
    // A bad grace is a 400 naming the parameter, and changes nothing.
    const client = await relay.createClient();
    for (const bad of ['', '-0', '1e3', '9'.repeat(10_000), '٣', '604801']) {
      const q = `?grace_seconds=${encodeURIComponent(bad)}`;
      const refused = await relay.admin('POST', `/api/keys/${id}/regenerate${q}`);
      expect(refused.status, bad.slice(0, 20)).toBe(400);
      expect(refused.json.error.param).toBe('grace_seconds');
      const download = await fetch(`${relay.url}/api/clients/${client.id}/download${q}`, {
        headers: { authorization: `Bearer ${relay.adminToken}` },
      });
      expect(download.status).toBe(400);
      await download.text();
    }
    expect(await chat(relay, leaked.json.key)).toBe(503);
    expect((await relay.admin('GET', `/api/clients/${client.id}`)).json.client.token_preview).toBe(
      `${client.token.slice(0, 10)}…`,
    );
  });
});

/**
 * `doctor` as a bridge owner runs it (a real child process with the agent's own flags): one line
 * per check with its fix, and an exit code a script can act on — 0 healthy, 1 a check failed,
 * 2 the config cannot be used.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../relay/src/store/secrets.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const CLI = fileURLToPath(new URL('../bridge-agent/src/cli.ts', import.meta.url));

function doctor(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, 'doctor', ...args],
      { env: { PATH: process.env.PATH } },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, out: stdout + stderr });
      },
    );
  });
}

describe('arena-agent doctor', () => {
  it('healthy: every check ok, exit 0', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const bridge = track(await startFakeBridge());
    const { code, out } = await doctor(['--relay', relay.url, '--token', token, '--upstream', bridge.url]);
    expect(out).not.toMatch(/^fail/m);
    expect(out).toMatch(/^ok\s+relay/m);
    // Which token the agent holds, by its id (as the package README names it), never the secret.
    expect(out).toContain(`token: accepted by the relay [tid_${hashSecret(token).slice(0, 12)}]`);
    expect(out).not.toContain(token);
    expect(code).toBe(0);
  });

  it('a token replaced and past its grace is named as such, with the fix, exit 1', async () => {
    const relay = await startTestRelay();
    const { id, token } = await relay.createClient();
    const bridge = track(await startFakeBridge());
    expect((await relay.admin('POST', `/api/clients/${id}/rotate-token?grace_seconds=0`)).status).toBe(200);
    const { code, out } = await doctor(['--relay', relay.url, '--token', token, '--upstream', bridge.url]);
    expect(out).toMatch(
      /^fail\s+token: the relay says it was replaced .*client_token_rotated.* -> install the newest client package/m,
    );
    expect(out).toContain(`[tid_${hashSecret(token).slice(0, 12)}]`);
    expect(code).toBe(1);
  });

  it('misconfigured: a bad token is named with its fix, exit 1', async () => {
    const relay = await startTestRelay();
    const bridge = track(await startFakeBridge());
    const { code, out } = await doctor([
      '--relay',
      relay.url,
      '--token',
      'art_wrong',
      '--upstream',
      bridge.url,
    ]);
    expect(out).toMatch(/^fail\s+.*token/im);
    expect(code).toBe(1);
  });

  it('down: relay and bridge unreachable, each with what to do, exit 1', async () => {
    const { code, out } = await doctor([
      '--relay',
      'http://127.0.0.1:9',
      '--token',
      'art_x',
      '--upstream',
      'http://127.0.0.1:9',
    ]);
    expect(out).toMatch(/^fail\s+relay .*ECONNREFUSED.* -> /m);
    expect(out).toMatch(/^fail\s+bridge reachable: .* -> start LMArenaBridge/m);
    expect(code).toBe(1);
  });

  it('no usable config: every problem listed, exit 2', async () => {
    const { code, out } = await doctor(['--config', '/nonexistent/config.jsonc']);
    expect(out).toMatch(/does not exist/);
    expect(out).toMatch(/platform_url is required/);
    expect(code).toBe(2);
  });
});

/**
 * A configuration the agent cannot use, under each service manager: the exit code the manager
 * does not restart, and the reason in the log file beside config.jsonc (no one reads a hidden
 * console), never a secret. The last test runs the real command line, as a service would.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { EXIT_CONFIG_UNUSABLE, EXIT_CREDENTIAL_REFUSED } from '../exit-codes.js';
import { LOG_FILE_NAME } from './log-file.js';
import { reportConfigError, serviceManagerFrom } from './run-log.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MARKER = 'SECRETMARK5e1d';

/** A config.jsonc with a token and one bad value, in a fresh folder. */
function badConfig(): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arena-run-log-'));
  const config = join(dir, 'config.jsonc');
  writeFileSync(
    config,
    JSON.stringify({
      platform_integration: { platform_url: 'https://relay.example', api_key: `art_${MARKER}` },
      upstream_api_key: MARKER,
      max_concurrency: 'many',
    }),
  );
  return { dir, config };
}

function configError(argv: string[]): ConfigError {
  try {
    loadConfig({ argv, env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the config loaded');
}

describe('an unusable configuration', () => {
  it.each([
    ['systemd', EXIT_CREDENTIAL_REFUSED],
    ['launchd', 0],
    ['task-scheduler', 0],
  ] as const)('under %s: exit %i and the reason in the log file, no secret', (manager, code) => {
    const { dir, config } = badConfig();
    const argv = ['--config', config, '--service-manager', manager];
    let stderr = '';
    expect(
      reportConfigError(configError(argv), { argv, env: {}, stderr: { write: (t) => (stderr += t) } }),
    ).toBe(code);
    expect(stderr).toContain('max_concurrency');
    const lines = readFileSync(join(dir, LOG_FILE_NAME), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 60, exitCode: code, config });
    expect(line.msg).toMatch(
      /^the configuration cannot be used; the agent stops and (systemd|launchd|the Scheduled Task) leaves it stopped/,
    );
    expect(line.problems.join('\n')).toMatch(/max_concurrency .*must be an integer from 1 to 1024/);
    expect(lines[0]).not.toContain(MARKER);
  });

  it('run by hand: exit 2, stderr only, no log file', () => {
    const { dir, config } = badConfig();
    const argv = ['--config', config];
    expect(reportConfigError(configError(argv), { argv, env: {}, stderr: { write: () => true } })).toBe(
      EXIT_CONFIG_UNUSABLE,
    );
    expect(existsSync(join(dir, LOG_FILE_NAME))).toBe(false);
  });

  it('the manager is read from the flag or the environment even when the rest is wrong; junk counts as none', () => {
    expect(serviceManagerFrom(['--bogus', '--service-manager=launchd'], {})).toBe('launchd');
    expect(serviceManagerFrom([], { AGENT_SERVICE_MANAGER: 'systemd' })).toBe('systemd');
    expect(serviceManagerFrom(['--service-manager', 'cron'], {})).toBe('none');
  });

  it('the agent run as systemd runs it: exit 78 (RestartPreventExitStatus) and the reason in arena-agent.log', async () => {
    const { dir, config } = badConfig();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bridge-agent/src/cli.ts', '--config', config, '--service-manager', 'systemd'],
      { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_CREDENTIAL_REFUSED);
    const logged = readFileSync(join(dir, LOG_FILE_NAME), 'utf8');
    expect(JSON.parse(logged)).toMatchObject({ level: 60, exitCode: EXIT_CREDENTIAL_REFUSED });
    expect(logged).toContain('max_concurrency');
    expect(`${logged}${output}`).not.toContain(MARKER);
  }, 30_000);
});

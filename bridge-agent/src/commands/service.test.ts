/**
 * install-service / uninstall-service carried out over a temp home folder with a recording runner:
 * which file is written, which commands run in which order, and what a failing command does.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandContext } from '../test-support/command-context.js';
import type { CommandContext, RunResult } from './context.js';
import { installService, uninstallService } from './service.js';

type Recorded = { ctx: CommandContext; calls: string[]; out: string[]; err: string[]; home: string };

function context(
  platform: NodeJS.Platform,
  argv: string[],
  answer: (program: string, args: readonly string[]) => RunResult = () => ({
    code: 0,
    stdout: '',
    stderr: '',
  }),
): Recorded {
  const home = mkdtempSync(join(tmpdir(), 'arena-service-'));
  const config = join(home, 'config.jsonc');
  writeFileSync(
    config,
    JSON.stringify({ platform_integration: { platform_url: 'https://relay.example', api_key: 'art_x' } }),
  );
  const calls: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const ctx = commandContext(out, {
    argv: argv.map((arg) => (arg === '$CONFIG' ? config : arg)),
    cwd: home,
    platform,
    homeDir: home,
    execPath: '/usr/bin/node',
    entry: join(home, 'arena-agent.mjs'),
    nodeVersion: '20.20.0',
    run: async (program, args) => {
      calls.push([program, ...args].join(' '));
      return answer(program, args);
    },
    err: (line) => err.push(line),
  });

  return { ctx, calls, out, err, home };
}

const UNIT = 'arena-agent.service';

describe('install-service / uninstall-service', () => {
  it('linux: writes the user unit, then reloads, enables and restarts it; uninstall reverses it', async () => {
    const { ctx, calls, out, home } = context('linux', ['--config', '$CONFIG']);
    expect(await installService(ctx)).toBe(0);
    const file = join(home, '.config/systemd/user', UNIT);
    expect(readFileSync(file, 'utf8')).toContain(
      `ExecStart="/usr/bin/node" "${join(home, 'arena-agent.mjs')}"`,
    );
    expect(calls).toEqual([
      'systemctl --user daemon-reload',
      `systemctl --user enable ${UNIT}`,
      `systemctl --user restart ${UNIT}`,
    ]);
    expect(out).toContain(`wrote ${file}`);

    calls.length = 0;
    expect(await uninstallService(ctx)).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(calls).toEqual([`systemctl --user disable --now ${UNIT}`, 'systemctl --user daemon-reload']);
    // Twice is fine: nothing to remove, the (allowed to fail) stop still runs.
    expect(await uninstallService(ctx)).toBe(0);
    expect(out.at(-1)).toBe('no service file was installed; nothing left to remove');
  });

  it('a failing command stops the install with its message and exit 1; a stop that fails is allowed', async () => {
    const failing = context('linux', ['--config', '$CONFIG'], (_program, args) =>
      args.includes('enable')
        ? { code: 1, stdout: '', stderr: 'Failed to connect to bus: No medium found' }
        : args.includes('disable')
          ? { code: 5, stdout: '', stderr: 'Unit not loaded' }
          : { code: 0, stdout: '', stderr: '' },
    );
    expect(await installService(failing.ctx)).toBe(1);
    expect(failing.calls).toHaveLength(2);
    expect(failing.err).toEqual(['systemctl failed (exit 1): Failed to connect to bus: No medium found']);
    expect(await uninstallService(failing.ctx)).toBe(0);
  });

  it('macOS: boots out any old agent, then bootstraps the plist in the user domain', async () => {
    const { ctx, calls, home } = context('darwin', ['--config', '$CONFIG']);
    expect(await installService(ctx)).toBe(0);
    const plist = join(home, 'Library/LaunchAgents/org.arena-relay.arena-agent.plist');
    expect(readFileSync(plist, 'utf8')).toContain('<string>/usr/bin/node</string>');
    expect(calls).toEqual([
      'launchctl bootout gui/1000/org.arena-relay.arena-agent',
      `launchctl bootstrap gui/1000 ${plist}`,
    ]);
  });

  it('Windows (dry run: the paths are Windows ones): the hidden launcher, then the task that runs it', async () => {
    const { ctx, calls, out, home } = context('win32', ['--config', '$CONFIG', '--dry-run']);
    ctx.homeDir = 'C:\\Users\\ann';
    expect(await installService(ctx)).toBe(0);
    expect(calls).toEqual([]);
    const folder = 'C:\\Users\\ann\\AppData\\Local\\arena-agent';
    // The launcher is written first: the task refers to it.
    const launcherAt = out.indexOf(`would write ${folder}\\arena-agent-launcher.js:`);
    const taskAt = out.indexOf(`would write ${folder}\\arena-agent.task.xml:`);
    expect(launcherAt).toBeGreaterThan(-1);
    expect(taskAt).toBeGreaterThan(launcherAt);
    expect(out.slice(launcherAt, taskAt).join('\n')).toContain('code = shell.Run(COMMAND, HIDDEN, true);');
    expect(out.slice(taskAt).join('\n')).toContain('<Command>%SystemRoot%\\System32\\wscript.exe</Command>');
    expect(out).toContain(`the service would log to ${join(home, 'arena-agent.log')}`);
    expect(out.slice(-2)).toEqual([
      `  schtasks /Create /XML ${folder}\\arena-agent.task.xml /TN arena-agent /F`,
      '  schtasks /Run /TN arena-agent',
    ]);
  });

  it('Windows uninstall: ends the task (the launcher), then the agents it started, then deletes the task', async () => {
    const { ctx, calls, out } = context('win32', []);
    ctx.homeDir = 'C:\\Users\\ann';
    expect(await uninstallService(ctx)).toBe(0);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toBe('schtasks /End /TN arena-agent');
    const [program, , , flag, encoded] = calls[1]!.split(' ');
    expect([program, flag]).toEqual(['powershell.exe', '-EncodedCommand']);
    expect(Buffer.from(encoded!, 'base64').toString('utf16le')).toContain(
      "Where-Object { $_.CommandLine -like '*--service-manager task-scheduler*' }",
    );
    expect(calls[2]).toBe('schtasks /Delete /TN arena-agent /F');
    expect(out.at(-1)).toBe('no service file was installed; nothing left to remove');
  });

  it('--dry-run prints the file and the commands and changes nothing', async () => {
    const { ctx, calls, out, home } = context('linux', ['--config', '$CONFIG', '--dry-run']);
    expect(await installService(ctx)).toBe(0);
    expect(calls).toEqual([]);
    expect(existsSync(join(home, '.config'))).toBe(false);
    expect(out).toContain(`  systemctl --user restart ${UNIT}`);
  });

  it('refuses settings as flags (a service reads only the file) and a config it could not run', async () => {
    const flags = context('linux', ['--config', '$CONFIG', '--upstream', 'http://x']);
    expect(await installService(flags.ctx)).toBe(2);
    expect(flags.err[0]).toContain('put settings in config.jsonc');

    const broken = context('linux', ['--config', '$CONFIG']);
    writeFileSync(join(broken.home, 'config.jsonc'), '{ "max_concurrency": "many" }');
    expect(await installService(broken.ctx)).toBe(2);
    expect(broken.err[0]).toContain('no AGENT_* variables, no flags');
    expect(broken.calls).toEqual([]);
  });

  it('says where services are not supported', async () => {
    const { ctx, err } = context('freebsd', ['--config', '$CONFIG']);
    expect(await installService(ctx)).toBe(1);
    expect(err[0]).toContain('not freebsd');
  });
});

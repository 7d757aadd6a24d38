/**
 * The service files install-service writes, parsed back the way each init system reads them:
 * whatever the paths hold (spaces, quotes, non-ASCII, `%`, `$`), the program and its arguments
 * come back exactly, with the restart policy each platform needs. No init system runs here.
 */
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { configSchema, SERVICE_MANAGERS } from '../config/schema.js';
import {
  credentialRefusedExit,
  EXIT_CREDENTIAL_REFUSED,
  EXIT_FAILURE,
  fatalExitCode,
} from '../exit-codes.js';
import { launchdPlist } from './launchd.js';
import { serviceCommand } from './service-command.js';
import { systemdUnit, systemdWord } from './systemd.js';
import { taskXml } from './task-scheduler.js';

/** systemd's ExecStart split: double-quoted words, C escapes, `$$` and `%%` undoubled. */
function systemdWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (const match of line.matchAll(re)) {
    words.push(match[1]!.replace(/\\(.)/g, '$1').replaceAll('$$', '$').replaceAll('%%', '%'));
  }
  return words;
}

function unitValues(unit: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of unit.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

/** How node.exe (the MSVC runtime) splits its command line back into arguments. */
function windowsSplit(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\') {
      let n = 0;
      while (line[i] === '\\') {
        n++;
        i++;
      }
      if (line[i] === '"') {
        current += '\\'.repeat(n >> 1);
        if (n % 2 === 1) current += '"';
        else quoted = !quoted;
      } else {
        current += '\\'.repeat(n);
        i--;
      }
      any = true;
    } else if (ch === '"') {
      quoted = !quoted;
      any = true;
    } else if (ch === ' ' && !quoted) {
      if (any || current) args.push(current);
      current = '';
      any = false;
    } else {
      current += ch;
      any = true;
    }
  }
  if (any || current) args.push(current);
  return args;
}

const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter(
  // Control characters are refused up front (tested below); '/' would only make more segments.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: those are what is left out.
  (s) => !/[\u0000-\u001f\u007f/\\]/.test(s) && s.trim() === s,
);
const posixPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false });

describe('service files', () => {
  it('systemd: ExecStart splits back into node, the entry and --config; restarts on failure', () => {
    fc.assert(
      fc.property(posixPath, posixPath, (entry, config) => {
        const command = serviceCommand({
          platform: 'linux',
          execPath: '/usr/bin/node',
          execArgv: [],
          entry,
          configPath: `${config}/config.jsonc`,
        });
        const values = unitValues(systemdUnit(command));
        expect(systemdWords(values.get('ExecStart')!)).toEqual([
          '/usr/bin/node',
          entry,
          '--config',
          `${config}/config.jsonc`,
          '--service-manager',
          'systemd',
        ]);
        expect(values.get('Restart')).toBe('on-failure');
        // A self-update's new process keeps the service alive after the old one exits.
        expect(values.get('ExitType')).toBe('cgroup');
        expect(values.get('WorkingDirectory')!.replaceAll('%%', '%')).toBe(config);
      }),
      { numRuns: 300 },
    );
  });

  it('systemd: $ and % are doubled, quotes and backslashes escaped (a "$$" replacement once left $ alone)', () => {
    expect(systemdWord('/a$b%c')).toBe('"/a$$b%%c"');
    expect(systemdWord('C:\\x "y"')).toBe('"C:\\\\x \\"y\\""');
  });

  it('launchd: ProgramArguments hold the command exactly; kept alive only after a failed exit', () => {
    fc.assert(
      fc.property(posixPath, posixPath, (entry, config) => {
        const command = serviceCommand({
          platform: 'darwin',
          execPath: '/opt/homebrew/bin/node',
          execArgv: [],
          entry,
          configPath: `${config}/c.jsonc`,
        });
        const plist = xml.parse(launchdPlist(command, '/Users/ann')).plist.dict;
        const keys = plist.key as string[];
        const strings = plist.string as string[];
        expect(keys).toContain('ProgramArguments');
        expect(plist.array.string).toEqual([
          '/opt/homebrew/bin/node',
          entry,
          '--config',
          `${config}/c.jsonc`,
          '--service-manager',
          'launchd',
        ]);
        expect(strings).toContain(config);
        expect(plist.dict.key).toBe('SuccessfulExit');
        // RunAtLoad and AbandonProcessGroup (a self-update's new process outlives the old one).
        expect(plist.true).toEqual(['', '']);
        expect(keys.indexOf('AbandonProcessGroup')).toBeGreaterThan(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('Task Scheduler: at log-on, restarted on failure, no time limit; Arguments split back exactly', () => {
    const winPath = fc
      .array(
        segment.filter((s) => !/[%"<>|?*:]/.test(s)),
        { minLength: 1, maxLength: 3 },
      )
      .map((p) => `C:\\Users\\${p.join('\\')}`);
    fc.assert(
      fc.property(winPath, winPath, (entry, config) => {
        const program = 'C:\\Program Files\\nodejs\\node.exe';
        const command = serviceCommand({
          platform: 'win32',
          execPath: program,
          execArgv: [],
          entry,
          configPath: `${config}\\config.jsonc`,
        });
        const task = xml.parse(taskXml(command, 'DESKTOP\\ann')).Task;
        expect(task.Triggers.LogonTrigger.UserId).toBe('DESKTOP\\ann');
        expect(task.Settings.RestartOnFailure).toMatchObject({ Interval: 'PT1M', Count: '999' });
        expect(task.Settings.ExecutionTimeLimit).toBe('PT0S');
        expect(task.Actions.Exec.Command).toBe(program);
        expect(windowsSplit(task.Actions.Exec.Arguments)).toEqual([
          entry,
          '--config',
          `${config}\\config.jsonc`,
          '--service-manager',
          'task-scheduler',
        ]);
        expect(task.Actions.Exec.WorkingDirectory).toBe(config);
      }),
      { numRuns: 300 },
    );
  });

  it('a refused client token is final under every manager: the exit code it gets is one its file does not restart', () => {
    const input = {
      execPath: '/usr/bin/node',
      execArgv: [],
      entry: '/a/arena-agent.mjs',
      configPath: '/a/c.jsonc',
    };
    // systemd restarts on failure except the code named in RestartPreventExitStatus.
    const unit = unitValues(systemdUnit(serviceCommand({ ...input, platform: 'linux' })));
    expect(credentialRefusedExit('systemd')).toBe(EXIT_CREDENTIAL_REFUSED);
    expect(unit.get('RestartPreventExitStatus')).toBe(String(EXIT_CREDENTIAL_REFUSED));
    expect(systemdWords(unit.get('ExecStart')!).slice(-2)).toEqual(['--service-manager', 'systemd']);
    // launchd keeps alive only after an unsuccessful exit: the refused token exits 0 under it.
    const plist = xml.parse(launchdPlist(serviceCommand({ ...input, platform: 'darwin' }), '/Users/ann'))
      .plist.dict;
    expect(plist.dict).toMatchObject({ key: 'SuccessfulExit', false: '' });
    expect(credentialRefusedExit('launchd')).toBe(0);
    // Task Scheduler restarts on failure only: the same.
    const task = xml.parse(
      taskXml(
        serviceCommand({
          ...input,
          platform: 'win32',
          execPath: 'C:\\n.exe',
          entry: 'C:\\a.mjs',
          configPath: 'C:\\c.jsonc',
        }),
        'ann',
      ),
    ).Task;
    expect(task.Settings.RestartOnFailure).toBeDefined();
    expect(windowsSplit(task.Actions.Exec.Arguments).slice(-2)).toEqual([
      '--service-manager',
      'task-scheduler',
    ]);
    expect(credentialRefusedExit('task-scheduler')).toBe(0);
    // Run by hand (no manager): the distinct code, and any other fatal error stays a failure.
    expect(credentialRefusedExit('none')).toBe(EXIT_CREDENTIAL_REFUSED);
    expect(fatalExitCode({ status: 401 }, 'systemd')).toBe(EXIT_CREDENTIAL_REFUSED);
    expect(fatalExitCode({ status: 426 }, 'systemd')).toBe(EXIT_FAILURE);
    expect(fatalExitCode({}, 'launchd')).toBe(EXIT_FAILURE);
    // The flag the files pass is one the agent's config takes.
    for (const manager of SERVICE_MANAGERS)
      expect(configSchema.shape.serviceManager.parse(manager)).toBe(manager);
    expect(configSchema.shape.serviceManager.safeParse('cron').success).toBe(false);
  });

  it('refuses what no service file can carry: relative paths, control characters, % for Windows', () => {
    const base = {
      platform: 'linux' as const,
      execPath: '/usr/bin/node',
      execArgv: [],
      entry: '/a/agent.mjs',
    };
    expect(() => serviceCommand({ ...base, configPath: 'config.jsonc' })).toThrow(/absolute/);
    expect(() => serviceCommand({ ...base, configPath: '/a/b\nc.jsonc' })).toThrow(/control character/);
    const win = serviceCommand({
      platform: 'win32',
      execPath: 'C:\\node.exe',
      execArgv: [],
      entry: 'C:\\a.mjs',
      configPath: 'C:\\100%\\c.jsonc',
    });
    expect(() => taskXml(win, 'ann')).toThrow(/expands the %/);
  });
});

/**
 * The service files install-service writes, parsed back the way each init system reads them:
 * whatever the paths hold (spaces, quotes, non-ASCII, `%`, `$`), the program and its arguments
 * come back exactly, with the restart policy each platform needs. No init system runs here.
 */
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { configSchema, SERVICE_MANAGERS } from '../config/schema.js';
import {
  configErrorExit,
  credentialRefusedExit,
  EXIT_CONFIG_UNUSABLE,
  EXIT_CREDENTIAL_REFUSED,
  EXIT_FAILURE,
  EXIT_HANDED_OVER,
  fatalExitCode,
  handedOverExit,
} from '../exit-codes.js';
import { launchdPlist } from './launchd.js';
import { serviceCommand } from './service-command.js';
import { systemdUnit, systemdWord } from './systemd.js';
import { taskXml } from './task-scheduler.js';
import {
  jscriptString,
  launcherCommandLine,
  launcherPath,
  STOP_AGENTS_SCRIPT,
  stopAgentsCommand,
  windowsLauncher,
} from './windows-launcher.js';

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

const winPath = fc
  .array(
    segment.filter((s) => !/[%"<>|?*:]/.test(s)),
    { minLength: 1, maxLength: 3 },
  )
  .map((p) => `C:\\Users\\${p.join('\\')}`);

/** Thrown by the fake Run past the exit codes given: the launcher would have gone on. */
class RanTooOften extends Error {
  override readonly message = 'ran more than expected';
}

type LauncherRun = {
  cwd: string | undefined;
  runs: { command: string; style: number; wait: boolean }[];
  sleeps: number[];
  quit: number | undefined;
  queries: string[];
};

/**
 * Runs the launcher's JScript in a fresh context with a fake WScript: each Run answers the next
 * exit code and lasts `runSeconds` (default 1); Date reads the fake clock Sleep advances.
 */
function runLauncher(
  text: string,
  exitCodes: number[],
  runSeconds: number[] = [],
  /** What each WMI query for a running agent finds, in order (then nothing). */
  found: number[] = [],
): LauncherRun {
  const result: LauncherRun = { cwd: undefined, runs: [], sleeps: [], quit: undefined, queries: [] };
  let now = 1_000_000;
  let ranTooOften = false;
  class Quit extends Error {}
  const shell = {
    set CurrentDirectory(folder: string) {
      result.cwd = folder;
    },
    Run(command: string, style: number, wait: boolean) {
      const i = result.runs.length;
      result.runs.push({ command, style, wait });
      // The script catches what Run throws: the next Sleep (outside its try) ends the run instead.
      if (i >= exitCodes.length) {
        ranTooOften = true;
        return 1;
      }
      // NaN plays node.exe not found: WshShell.Run throws.
      if (Number.isNaN(exitCodes[i])) throw new Error('The system cannot find the file specified.');
      now += (runSeconds[i] ?? 1) * 1000;
      return exitCodes[i];
    },
  };
  const WScript = {
    CreateObject(name: string) {
      if (name !== 'WScript.Shell') throw new Error(`unexpected object ${name}`);
      return shell;
    },
    Sleep(ms: number) {
      if (ranTooOften) throw new RanTooOften();
      result.sleeps.push(ms);
      now += ms;
    },
    Quit(code: number) {
      result.quit = code;
      throw new Quit();
    },
  };
  class FakeDate {
    getTime() {
      return now;
    }
  }
  try {
    const GetObject = (name: string) => {
      if (name !== 'winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\cimv2')
        throw new Error(`bad WMI name ${name}`);
      return {
        ExecQuery(query: string) {
          result.queries.push(query);
          return { Count: found.shift() ?? 0 };
        },
      };
    };
    runInNewContext(text, { WScript, GetObject, Date: FakeDate, Math });
  } catch (error) {
    if (!(error instanceof Quit)) throw error;
  }
  return result;
}

type Node = Record<string, Node[] | string>;
const ordered = new XMLParser({ preserveOrder: true, parseTagValue: false, ignoreAttributes: true });

/** The plist's top dict as launchd reads it: each key with the element after it, as `tag:text`. */
function plistValues(text: string): Map<string, string> {
  const within = (nodes: Node[], tag: string) => nodes.find((node) => tag in node)![tag] as Node[];
  const dict = within(within(ordered.parse(text) as Node[], 'plist'), 'dict');
  const values = new Map<string, string>();
  dict.forEach((node, i) => {
    if (!('key' in node)) return;
    const key = (node.key as Node[])[0]!['#text'] as string;
    const value = dict[i + 1]!;
    const tag = Object.keys(value)[0]!;
    values.set(key, `${tag}:${((value[tag] as Node[])[0]?.['#text'] as string | undefined) ?? ''}`);
  });
  return values;
}

/** The service command for `platform`, with no Node flags. */
function commandFor(platform: NodeJS.Platform, execPath: string, entry: string, configPath: string) {
  return serviceCommand({ platform, execPath, execArgv: [], entry, configPath });
}

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false });

describe('service files', () => {
  it('systemd: ExecStart splits back into node, the entry and --config; restarts on failure', () => {
    fc.assert(
      fc.property(posixPath, posixPath, (entry, config) => {
        const command = commandFor('linux', '/usr/bin/node', entry, `${config}/config.jsonc`);
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
        const command = commandFor('darwin', '/opt/homebrew/bin/node', entry, `${config}/c.jsonc`);
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

  it('Task Scheduler: at log-on runs the hidden launcher with wscript, no time limit; the launcher runs node exactly', () => {
    fc.assert(
      fc.property(winPath, winPath, winPath, (entry, config, home) => {
        const program = 'C:\\Program Files\\nodejs\\node.exe';
        const command = commandFor('win32', program, entry, `${config}\\config.jsonc`);
        const launcher = launcherPath(home);
        const task = xml.parse(taskXml(command, 'DESKTOP\\ann', launcher)).Task;
        expect(task.Triggers.LogonTrigger.UserId).toBe('DESKTOP\\ann');
        // The launcher itself is started again if it could not start.
        expect(task.Settings.RestartOnFailure).toMatchObject({ Interval: 'PT1M', Count: '999' });
        expect(task.Settings.ExecutionTimeLimit).toBe('PT0S');
        expect(task.Settings.MultipleInstancesPolicy).toBe('IgnoreNew');
        // wscript.exe has no console: nothing to see, nothing to close by mistake.
        expect(task.Actions.Exec.Command).toBe('%SystemRoot%\\System32\\wscript.exe');
        expect(windowsSplit(task.Actions.Exec.Arguments)).toEqual([
          '//B',
          '//NoLogo',
          '//E:JScript',
          launcher,
        ]);
        expect(task.Actions.Exec.WorkingDirectory).toBe(config);
        const text = windowsLauncher(command);
        // WSH reads a BOM-less file in the ANSI code page: ASCII only, whatever the paths hold.
        expect(text).toMatch(/^[\n\x20-\x7e]*$/);
        const run = runLauncher(text, [0]);
        expect(run.cwd).toBe(config);
        expect(run.runs).toHaveLength(1);
        expect(run.runs[0]!.style).toBe(0);
        expect(run.runs[0]!.wait).toBe(true);
        expect(windowsSplit(run.runs[0]!.command)).toEqual([
          program,
          entry,
          '--config',
          `${config}\\config.jsonc`,
          '--service-manager',
          'task-scheduler',
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it('Windows launcher: ES3 only; restarts after a failed exit with a doubling delay capped at 5 min, stops on exit 0', () => {
    const command = commandFor('win32', 'C:\\n\\node.exe', 'C:\\a\\arena-agent.mjs', 'C:\\a\\config.jsonc');
    const text = windowsLauncher(command);
    // WSH's JScript is ES3: none of what came later.
    expect(text).not.toMatch(/\b(let|const|class)\s|=>|`|\.includes\(|JSON\./);
    // A crash loop: 5, 10, 20 … 300, 300 s between starts; the 11th run exits 0 (a refused token).
    const crashing = runLauncher(text, [1, 1, 1, 1, 1, 1, 1, 1, 3221225477, 1, 0]);
    expect(crashing.sleeps).toEqual([5, 10, 20, 40, 80, 160, 300, 300, 300, 300].map((s) => s * 1000));
    expect(crashing.runs).toHaveLength(11);
    expect(crashing.quit).toBe(0);
    // A run of 10 minutes or more was healthy: the next failure waits 5 s again.
    const healthy = runLauncher(text, [1, 1, 1, 0], [1, 1, 600, 1]);
    expect(healthy.sleeps).toEqual([5, 10, 5].map((s) => s * 1000));
    // A self-update's old process (75): the launcher waits while its successor runs, then starts
    // the agent again after the first delay.
    const updated = runLauncher(text, [EXIT_HANDED_OVER, 0], [], [1, 1, 0]);
    expect(updated.sleeps).toEqual([30_000, 30_000, 5_000]);
    expect(updated.runs).toHaveLength(2);
    expect(updated.queries[0]).toBe(
      "SELECT ProcessId FROM Win32_Process WHERE Name = 'node.exe' AND CommandLine LIKE '%--service-manager task-scheduler%'",
    );
    expect(handedOverExit('task-scheduler')).toBe(EXIT_HANDED_OVER);
    expect(handedOverExit('systemd')).toBe(0);
    expect(handedOverExit('launchd')).toBe(0);
    // node.exe missing: the launcher backs off and tries again, it does not end.
    expect(runLauncher(text, [Number.NaN, Number.NaN, 0]).sleeps).toEqual([5_000, 10_000]);
    // Whatever node answers, the launcher never stops on a failure by itself.
    expect(() => runLauncher(text, [2, 78, 130])).toThrow(/ran more than expected/);
  });

  it('the uninstall script ends exactly the agents the launcher starts', () => {
    const { program, args } = stopAgentsCommand();
    expect(program).toBe('powershell.exe');
    expect(Buffer.from(args.at(-1)!, 'base64').toString('utf16le')).toBe(STOP_AGENTS_SCRIPT);
    // PowerShell's -like pattern, as a regex: what the launcher runs matches, a hand-run agent not.
    const like = /-like '([^']*)'/.exec(STOP_AGENTS_SCRIPT)![1]!;
    const pattern = new RegExp(
      `^${like
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    const command = commandFor(
      'win32',
      'C:\\Program Files\\nodejs\\node.exe',
      'C:\\Users\\ann\\arena agent\\arena-agent.mjs',
      'C:\\Users\\ann\\arena agent\\config.jsonc',
    );
    expect(pattern.test(launcherCommandLine(command))).toBe(true);
    expect(pattern.test('"C:\\node.exe" arena-agent.mjs uninstall-service')).toBe(false);
    expect(pattern.test('"C:\\node.exe" arena-agent.mjs --config c.jsonc')).toBe(false);
  });

  it('the launcher refuses % (WshShell.Run expands it) and quotes every character of a path as itself', () => {
    const base = { platform: 'win32' as const, execPath: 'C:\\node.exe', execArgv: [], entry: 'C:\\a.mjs' };
    expect(() => windowsLauncher(serviceCommand({ ...base, configPath: 'C:\\100%\\c.jsonc' }))).toThrow(
      /expands the %/,
    );
    expect(jscriptString('a"b\\c\u00e9\u{1f600}\u2028')).toBe('"a\\"b\\\\c\\u00e9\\ud83d\\ude00\\u2028"');
    const evaluated: unknown = runInNewContext(jscriptString('C:\\Us\u00e9rs\\\u{1f600} "x"'));
    expect(evaluated).toBe('C:\\Us\u00e9rs\\\u{1f600} "x"');
  });

  it('a refused client token is final under every manager: the exit code it gets is one its file does not restart', () => {
    const posix = (platform: NodeJS.Platform) =>
      commandFor(platform, '/usr/bin/node', '/a/arena-agent.mjs', '/a/c.jsonc');
    // systemd restarts on failure except the code named in RestartPreventExitStatus.
    const unit = unitValues(systemdUnit(posix('linux')));
    expect(credentialRefusedExit('systemd')).toBe(EXIT_CREDENTIAL_REFUSED);
    expect(unit.get('RestartPreventExitStatus')).toBe(String(EXIT_CREDENTIAL_REFUSED));
    expect(systemdWords(unit.get('ExecStart')!).slice(-2)).toEqual(['--service-manager', 'systemd']);
    // launchd keeps alive only after an unsuccessful exit: the refused token exits 0 under it.
    const plist = xml.parse(launchdPlist(posix('darwin'), '/Users/ann')).plist.dict;
    expect(plist.dict).toMatchObject({ key: 'SuccessfulExit', false: '' });
    expect(credentialRefusedExit('launchd')).toBe(0);
    // Task Scheduler restarts on failure only: the same.
    const task = xml.parse(
      taskXml(commandFor('win32', 'C:\\n.exe', 'C:\\a.mjs', 'C:\\c.jsonc'), 'ann', 'C:\\l.js'),
    ).Task;
    expect(task.Settings.RestartOnFailure).toBeDefined();
    expect(task.Actions.Exec.Arguments).toContain('C:\\l.js');
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

  it('restart with a back-off, never after a fatal configuration error: systemd and launchd', () => {
    const posix = (platform: NodeJS.Platform) =>
      commandFor(platform, '/usr/bin/node', '/a/agent.mjs', '/a/c.jsonc');
    const unit = unitValues(systemdUnit(posix('linux')));
    expect(unit.get('Restart')).toBe('on-failure');
    expect(unit.get('RestartSec')).toBe('5');
    expect(unit.get('RestartSteps')).toBe('10');
    expect(unit.get('RestartMaxDelaySec')).toBe('5min');
    expect(unit.get('StartLimitIntervalSec')).toBe('10min');
    expect(unit.get('StartLimitBurst')).toBe('30');
    // StartLimit* belong to [Unit]: systemd ignores them in [Service].
    const text = systemdUnit(posix('linux'));
    expect(text.indexOf('StartLimitBurst')).toBeLessThan(text.indexOf('[Service]'));
    // An unusable config exits with the code the unit does not restart, as a refused token does.
    expect(configErrorExit('systemd')).toBe(Number(unit.get('RestartPreventExitStatus')));
    expect(configErrorExit('none')).toBe(EXIT_CONFIG_UNUSABLE);
    expect(configErrorExit('launchd')).toBe(0);
    expect(configErrorExit('task-scheduler')).toBe(0);

    const plist = plistValues(launchdPlist(posix('darwin'), '/Users/ann'));
    // launchd has no growing back-off: at most one start per 30 s, only after a failed exit.
    expect(plist.get('ThrottleInterval')).toBe('integer:30');
    expect(plist.get('KeepAlive')).toBe('dict:');
    expect(plist.get('RunAtLoad')).toBe('true:');
    // stdout (the console lines, already in the agent's rotated file) is not kept twice, unrotated.
    expect(plist.get('StandardOutPath')).toBe('string:/dev/null');
    expect(plist.get('StandardErrorPath')).toBe('string:/Users/ann/Library/Logs/arena-agent.log');
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
    const win = commandFor('win32', 'C:\\node.exe', 'C:\\a.mjs', 'C:\\100%\\c.jsonc');
    expect(() => taskXml(win, 'ann', 'C:\\l.js')).toThrow(/expands the %/);
  });
});

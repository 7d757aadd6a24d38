import { BRIDGE_REASON_FIXES } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging.js';
import { DesktopNotifier, desktopCommand, type Spawner } from './desktop-notifier.js';

// Quotes, PowerShell and AppleScript syntax, a newline, an escape sequence, a bidi override.
const HOSTILE = `a"b'c\`$(calc) & "; do shell script "rm" -- \n\u001b[31mx\u202e`;

describe('desktopCommand', () => {
  const note = { title: 'Arena Relay: LMArena shows a Cloudflare check', body: 'pass the check' };

  it('Linux: notify-send with the texts as arguments after --', () => {
    expect(desktopCommand('linux', note)).toEqual({
      program: 'notify-send',
      args: ['--app-name=Arena Relay agent', '--urgency=critical', '--', note.title, note.body],
    });
  });

  it('macOS: osascript reads the texts from argv, never from the script', () => {
    const command = desktopCommand('darwin', { title: HOSTILE, body: HOSTILE })!;
    expect(command.program).toBe('osascript');
    const script = command.args.slice(0, 6);
    expect(script).toEqual([
      '-e',
      'on run argv',
      '-e',
      'display notification (item 2 of argv) with title (item 1 of argv)',
      '-e',
      'end run',
    ]);
    // Control characters are stripped; the rest is data, passed as it is.
    expect(command.args.slice(6)).toHaveLength(2);
    expect(command.args[6]).toContain('$(calc)');
    const controls = [...command.args[6]!].filter((ch) => ch.charCodeAt(0) < 0x20 || ch === '\u202e');
    expect(controls).toEqual([]);
  });

  it('Windows: a PowerShell toast whose texts travel as base64, so nothing in them is code', () => {
    const command = desktopCommand('win32', { title: HOSTILE, body: 'the fix' })!;
    expect(command.program).toBe('powershell.exe');
    expect(command.args.slice(0, 5)).toEqual([
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-Command',
    ]);
    const script = command.args[5]!;
    expect(script).not.toContain('calc');
    expect(script).not.toContain('the fix');
    const encoded = [...script.matchAll(/FromBase64String\('([A-Za-z0-9+/=]*)'\)/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('utf8'),
    );
    expect(encoded).toEqual([expect.stringContaining('$(calc)'), 'the fix']);
    expect(script).toContain('CreateToastNotifier');
  });

  it('no command where there is no known notifier', () => {
    expect(desktopCommand('aix', note)).toBeUndefined();
  });
});

describe('DesktopNotifier', () => {
  function notifier(minIntervalMs = 60_000, result: Awaited<ReturnType<Spawner>> = { ok: true }) {
    const calls: { program: string; args: readonly string[] }[] = [];
    let now = 1_000_000;
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const n = new DesktopNotifier({
      platform: 'linux',
      logger,
      minIntervalMs,
      now: () => now,
      spawn: async (program, args) => {
        calls.push({ program, args });
        return result;
      },
    });
    return { n, calls, lines, advance: (ms: number) => (now += ms) };
  }

  it('one notification per incident, whatever the probes say meanwhile', () => {
    const { n, calls } = notifier();
    n.update(false, 'cloudflare_challenge');
    n.update(false, 'session_expired');
    n.update(false, 'cloudflare_challenge');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.slice(-2)).toEqual([
      'Arena Relay: LMArena shows a Cloudflare check',
      BRIDGE_REASON_FIXES.cloudflare_challenge,
    ]);
  });

  it('reasons no person needs to fix raise nothing', () => {
    const { n, calls } = notifier();
    for (const code of [
      'upstream_rate_limited',
      'bridge_error',
      'not_probed',
      'agent_shutting_down',
    ] as const) {
      n.update(false, code);
    }
    n.update(false, undefined);
    expect(calls).toEqual([]);
  });

  it('a new incident after a recovery notifies again, but a flapping bridge at most once per interval', () => {
    const { n, calls, advance } = notifier(60_000);
    n.update(false, 'recaptcha_failed');
    n.update(true, undefined);
    advance(1_000);
    n.update(false, 'recaptcha_failed');
    n.update(true, undefined);
    expect(calls).toHaveLength(1);
    advance(60_000);
    n.update(false, 'userscript_disconnected');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args).toContain('Arena Relay: the LMArena tab is not connected');
  });

  it('a notifier that cannot run is said once in the log, never thrown', async () => {
    const { n, calls, lines, advance } = notifier(0, { ok: false, problem: 'ENOENT' });
    for (let i = 0; i < 3; i++) {
      n.update(false, 'bridge_down');
      n.update(true, undefined);
      advance(1);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(3);
    const failures = lines.filter((line) => line.includes('desktop notification failed'));
    expect(failures).toHaveLength(1);
    expect(JSON.parse(failures[0]!)).toMatchObject({ program: 'notify-send', problem: 'ENOENT' });
  });
});

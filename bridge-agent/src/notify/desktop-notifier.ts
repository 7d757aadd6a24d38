/**
 * Opt-in desktop notifications (`desktop_notifications`): when the bridge stops serving for a
 * reason only a person at this machine can fix (a Cloudflare check, an expired session, a closed
 * tab, reCAPTCHA, the bridge process gone), the owner sees one notification, with the fix in
 * words: a Windows toast through PowerShell, `osascript` on macOS, `notify-send` on Linux. One per
 * incident, not one per probe: the incident ends only when the bridge serves again, and a bridge
 * flapping in and out raises at most one notification per `minIntervalMs`.
 *
 * Only this agent's own words reach the command (the reason's title and BRIDGE_REASON_FIXES), never
 * the bridge's; and none is ever spliced into a script: argv items on macOS and Linux, base64 in
 * the PowerShell script on Windows.
 */
import { spawn } from 'node:child_process';
import { BRIDGE_REASON_FIXES, type BridgeReasonCode, stripControls } from '@arena-relay/shared';
import type { Logger } from '../logging.js';

/** The reasons that wait for a person, and the notification's title for each. */
export const NEEDS_A_HUMAN: Readonly<Partial<Record<BridgeReasonCode, string>>> = Object.freeze({
  userscript_disconnected: 'the LMArena tab is not connected',
  cloudflare_challenge: 'LMArena shows a Cloudflare check',
  session_expired: 'the LMArena session expired',
  recaptcha_failed: "LMArena's reCAPTCHA failed",
  bridge_down: 'LMArenaBridge is not running',
});

/** Default least time between two notifications, in ms (10 min). */
export const NOTIFY_MIN_INTERVAL_MS = 10 * 60_000;

/** Starts a program, detached from the agent's fate; must not throw. */
export type Spawner = (
  program: string,
  args: readonly string[],
) => Promise<{ ok: boolean; problem?: string }>;

export type Notification = { title: string; body: string };

/** The program and arguments that show `note` on `platform`, or undefined where there is none. */
export function desktopCommand(
  platform: NodeJS.Platform,
  note: Notification,
): { program: string; args: string[] } | undefined {
  const title = stripControls(note.title).slice(0, 120);
  const body = stripControls(note.body).slice(0, 400);
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    return {
      program: 'notify-send',
      args: ['--app-name=Arena Relay agent', '--urgency=critical', '--', title, body],
    };
  }
  if (platform === 'darwin') {
    const script = [
      'on run argv',
      'display notification (item 2 of argv) with title (item 1 of argv)',
      'end run',
    ];
    return { program: 'osascript', args: [...script.flatMap((line) => ['-e', line]), title, body] };
  }
  if (platform === 'win32') {
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const decode = (text: string) =>
      `[Security.SecurityElement]::Escape([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64(text)}')))`;
    // A toast needs an app id Windows knows: PowerShell's own is always registered.
    const script = [
      '[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] | Out-Null',
      '[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] | Out-Null',
      `$t = ${decode(title)}`,
      `$b = ${decode(body)}`,
      '$x = New-Object Windows.Data.Xml.Dom.XmlDocument',
      '$x.LoadXml("<toast><visual><binding template=`"ToastGeneric`"><text>$t</text><text>$b</text></binding></visual></toast>")',
      "$id = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\WindowsPowerShell\\v1.0\\powershell.exe'",
      '[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($id).Show([Windows.UI.Notifications.ToastNotification]::new($x))',
    ].join('; ');
    return {
      program: 'powershell.exe',
      args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script],
    };
  }
  return undefined;
}

/** Runs the program hidden, no shell, and reports whether it started and exited 0. */
export const spawnDetached: Spawner = (program, args) =>
  new Promise((resolve) => {
    try {
      const child = spawn(program, [...args], { stdio: 'ignore', windowsHide: true });
      child.once('error', (error) =>
        resolve({ ok: false, problem: (error as NodeJS.ErrnoException).code ?? error.message }),
      );
      child.once('exit', (code) =>
        resolve(code === 0 ? { ok: true } : { ok: false, problem: `exit ${code}` }),
      );
    } catch (error) {
      resolve({ ok: false, problem: (error as Error).message });
    }
  });

export type NotifierOptions = {
  platform: NodeJS.Platform;
  logger: Logger;
  /** Default: spawns the program. Tests record the command instead. */
  spawn?: Spawner;
  /** Default NOTIFY_MIN_INTERVAL_MS. */
  minIntervalMs?: number;
  /** Default Date.now. */
  now?: () => number;
};

/** Follows the bridge's readiness and raises one notification per incident that needs a person. */
export class DesktopNotifier {
  readonly #options: NotifierOptions;
  /** True from the notification until the bridge serves again. */
  #incident = false;
  #lastAt = Number.NEGATIVE_INFINITY;
  #failed = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  /** Called on every readiness change. */
  update(ready: boolean, code: BridgeReasonCode | undefined): void {
    if (ready) {
      this.#incident = false;
      return;
    }
    const title = code && NEEDS_A_HUMAN[code];
    if (!title || this.#incident) return;
    const now = (this.#options.now ?? Date.now)();
    if (now - this.#lastAt < (this.#options.minIntervalMs ?? NOTIFY_MIN_INTERVAL_MS)) return;
    this.#incident = true;
    this.#lastAt = now;
    void this.#show({ title: `Arena Relay: ${title}`, body: BRIDGE_REASON_FIXES[code!] }, code!);
  }

  async #show(note: Notification, code: BridgeReasonCode): Promise<void> {
    const { platform, logger } = this.#options;
    const command = desktopCommand(platform, note);
    if (!command) {
      if (!this.#failed)
        logger.warn({ platform }, 'desktop notifications are not supported on this platform');
      this.#failed = true;
      return;
    }
    const result = await (this.#options.spawn ?? spawnDetached)(command.program, command.args);
    if (result.ok) return void logger.info({ code }, 'desktop notification shown');
    // Said once: a machine without notify-send would otherwise say it at every incident.
    if (!this.#failed) {
      logger.warn({ program: command.program, problem: result.problem }, 'desktop notification failed');
    }
    this.#failed = true;
  }
}

/**
 * Per platform: which init system holds the agent, where its file goes, what that file says and
 * which commands install or remove it. Only data here; commands/service.ts carries it out.
 */
import { posix } from 'node:path';
import { launchdLogPath, launchdPlist, launchdPlistPath } from './launchd.js';
import { LAUNCHD_LABEL, SERVICE_NAME, type ServiceCommand } from './service-command.js';
import { SYSTEMD_UNIT_FILE, systemdUnit } from './systemd.js';
import { taskXml, taskXmlBytes, taskXmlPath } from './task-scheduler.js';
import { launcherPath, stopAgentsCommand, windowsLauncher } from './windows-launcher.js';

/** One external command; `mayFail` when failing only means there was nothing to stop. */
export type Step = { program: string; args: string[]; mayFail?: boolean };

/** A file's text, and the bytes written (UTF-16 for Task Scheduler). */
export type Rendered = { text: string; bytes: Buffer };

export type ServiceTarget = {
  system: 'systemd' | 'launchd' | 'task-scheduler';
  /** The file written on install and removed on uninstall. */
  file: string;
  render(command: ServiceCommand): Rendered;
  /** Files the service file uses (Windows: the launcher), written before it and removed after it. */
  companions: { file: string; render(command: ServiceCommand): Rendered }[];
  /** Run after the file is written. */
  install: Step[];
  /** Run before the file is removed, then after. */
  stop: Step[];
  afterRemove: Step[];
  /** Told to the owner after an install: how to watch it, what else may be wanted. */
  notes: string[];
};

export type TargetInput = { platform: NodeJS.Platform; homeDir: string; user: { name: string; uid: number } };

const utf8 = (text: string): Rendered => ({ text, bytes: Buffer.from(text, 'utf8') });

/** The platform's target, or undefined where the agent has no service support. */
export function serviceTarget(input: TargetInput): ServiceTarget | undefined {
  const { homeDir, user } = input;
  switch (input.platform) {
    case 'linux': {
      const systemctl = (...args: string[]): Step => ({ program: 'systemctl', args: ['--user', ...args] });
      return {
        system: 'systemd',
        file: posix.join(homeDir, '.config', 'systemd', 'user', SYSTEMD_UNIT_FILE),
        render: (command) => utf8(systemdUnit(command)),
        companions: [],
        // restart rather than start: a second install must pick up the new file.
        install: [
          systemctl('daemon-reload'),
          systemctl('enable', SYSTEMD_UNIT_FILE),
          systemctl('restart', SYSTEMD_UNIT_FILE),
        ],
        stop: [{ ...systemctl('disable', '--now', SYSTEMD_UNIT_FILE), mayFail: true }],
        afterRemove: [systemctl('daemon-reload')],
        notes: [
          `logs: journalctl --user -u ${SERVICE_NAME} -f`,
          `status: systemctl --user status ${SERVICE_NAME}`,
          `to keep it running while you are logged out, and start it at boot: loginctl enable-linger ${user.name}`,
        ],
      };
    }
    case 'darwin': {
      const file = launchdPlistPath(homeDir);
      const domain = `gui/${user.uid}`;
      return {
        system: 'launchd',
        file,
        render: (command) => utf8(launchdPlist(command, homeDir)),
        companions: [],
        // bootout first: bootstrap refuses a label that is already loaded.
        install: [
          { program: 'launchctl', args: ['bootout', `${domain}/${LAUNCHD_LABEL}`], mayFail: true },
          { program: 'launchctl', args: ['bootstrap', domain, file] },
        ],
        stop: [{ program: 'launchctl', args: ['bootout', `${domain}/${LAUNCHD_LABEL}`], mayFail: true }],
        afterRemove: [],
        notes: [
          `crashes before the agent could log: ${launchdLogPath(homeDir)}`,
          `status: launchctl print ${domain}/${LAUNCHD_LABEL}`,
        ],
      };
    }
    case 'win32': {
      const file = taskXmlPath(homeDir);
      const launcher = launcherPath(homeDir);
      const end: Step = { program: 'schtasks', args: ['/End', '/TN', SERVICE_NAME], mayFail: true };
      const stopAgents: Step = { ...stopAgentsCommand(), mayFail: true };
      return {
        system: 'task-scheduler',
        file,
        render: (command) => {
          const text = taskXml(command, user.name, launcher);
          return { text, bytes: taskXmlBytes(text) };
        },
        // ASCII (windows-launcher.ts), so the same bytes in any code page.
        companions: [{ file: launcher, render: (command) => utf8(windowsLauncher(command)) }],
        // The launcher first (or it would start the agent again), then the agent it started: a
        // reinstall must run the new file, and an uninstall must leave nothing running.
        install: [
          end,
          stopAgents,
          { program: 'schtasks', args: ['/Create', '/XML', file, '/TN', SERVICE_NAME, '/F'] },
          { program: 'schtasks', args: ['/Run', '/TN', SERVICE_NAME] },
        ],
        stop: [
          end,
          stopAgents,
          { program: 'schtasks', args: ['/Delete', '/TN', SERVICE_NAME, '/F'], mayFail: true },
        ],
        afterRemove: [],
        notes: [
          `status: schtasks /Query /TN ${SERVICE_NAME} /V /FO LIST`,
          'the agent runs hidden (no window) from each log-on and is restarted after a failure',
          'to stop it and remove it: arena-agent uninstall-service',
        ],
      };
    }
    default:
      return undefined;
  }
}

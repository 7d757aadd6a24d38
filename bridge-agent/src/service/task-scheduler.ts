/**
 * Windows: a Scheduled Task that runs the agent's launcher (windows-launcher.ts: node with no
 * window, restarted with a back-off) at the user's log-on, restarts the launcher itself if it
 * could not start (every minute, up to 999 times: the finest and longest Task Scheduler allows)
 * and never stops it for running too long. Registered with `schtasks /Create /XML`, which reads
 * UTF-16. A refused client token or an unusable config ends the agent with exit 0 under the task
 * (`--service-manager task-scheduler`): a success, which the launcher does not restart
 * (exit-codes.ts).
 */
import { win32 } from 'node:path';
import type { ServiceCommand } from './service-command.js';
import { xmlText } from './xml.js';

/**
 * One argument for a Windows command line, as node.exe's C runtime splits it
 * (CommandLineToArgvW rules): quoted when it holds a blank or a quote, backslashes doubled only
 * where they precede a quote.
 */
export function windowsArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    out += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/**
 * Task Scheduler expands `%NAME%` in the command, its arguments and folder, and WshShell.Run in
 * the launcher's command line, with no escape.
 */
export function refusePercent(command: ServiceCommand, ...more: string[]): void {
  for (const value of [command.program, command.workingDirectory, ...command.args, ...more]) {
    if (value.includes('%')) {
      throw new Error(`a Scheduled Task cannot hold ${JSON.stringify(value)}: Windows expands the % in it`);
    }
  }
}

/** Where the task's XML is kept (for reference and for schtasks to read). */
export function taskXmlPath(homeDir: string): string {
  return win32.join(homeDir, 'AppData', 'Local', 'arena-agent', 'arena-agent.task.xml');
}

/**
 * wscript.exe, window-less; `//B` shows no script error dialog, `//E:JScript` holds even where `.js`
 * files were given to another program. `%SystemRoot%` is for Task Scheduler to expand.
 */
export const WSCRIPT = '%SystemRoot%\\System32\\wscript.exe';

/** The task's definition; `userId` is `DOMAIN\name` or `name`; `launcher` the launcher's path. */
export function taskXml(command: ServiceCommand, userId: string, launcher: string): string {
  refusePercent(command, launcher);
  const args = ['//B', '//NoLogo', '//E:JScript', launcher].map(windowsArg).join(' ');
  const user = xmlText(userId);
  return `<?xml version="1.0" encoding="UTF-16"?>
<!-- Arena Relay bridge agent, written by arena-agent install-service; removed by uninstall-service. -->
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Arena Relay bridge agent: lends the local LMArenaBridge to the relay.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>${user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xmlText(WSCRIPT)}</Command>
      <Arguments>${xmlText(args)}</Arguments>
      <WorkingDirectory>${xmlText(command.workingDirectory)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** The bytes schtasks reads: UTF-16 little-endian with a byte-order mark, CRLF line ends. */
export function taskXmlBytes(xml: string): Buffer {
  return Buffer.from(`\ufeff${xml.replace(/\r?\n/g, '\r\n')}`, 'utf16le');
}

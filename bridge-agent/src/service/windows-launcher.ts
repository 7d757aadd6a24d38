/**
 * Windows: the small script the Scheduled Task runs instead of node, so the agent runs with no
 * window at all and is restarted with a back-off.
 *
 * Why a Windows Script Host script: node.exe is a console program, so a task that starts it
 * directly opens a console window, and closing that window stops the agent. wscript.exe is a
 * window-less program present on every stock Windows 10 and 11, and its `WshShell.Run(command, 0,
 * true)` starts node with its window hidden (SW_HIDE) and waits for its exit code. The other
 * choices fall short: `powershell -WindowStyle Hidden` flashes a console before it hides it, and
 * `conhost --headless` is undocumented. The script is JScript, not VBScript (which Windows is
 * phasing out), written in ES3 with ASCII only: WSH's JScript is ES3, and reads a file without a
 * byte-order mark in the ANSI code page, so every other character is a `\uXXXX` escape.
 *
 * Why the restart loop lives here: Task Scheduler's RestartOnFailure covers a task that could not
 * start, not a program that exits with a failure code, and it waits at least a minute. So the
 * script restarts node after a failed exit, 5 s first, doubling to 5 min, back to 5 s after a run
 * of 10 min; exit 0 ends it (the agent was stopped, or it stopped for good on a refused token or
 * an unusable config: exit-codes.ts gives those 0 under `--service-manager task-scheduler`). A
 * self-update's old process exits EXIT_HANDED_OVER: its successor, started by it, runs on, so the
 * script waits (asking WMI every WATCH_S) until no agent of the task runs, then starts one again.
 */
import { win32 } from 'node:path';
import { EXIT_HANDED_OVER } from '../exit-codes.js';
import type { ServiceCommand } from './service-command.js';
import { refusePercent, windowsArg } from './task-scheduler.js';

/** First delay before a restart, in seconds; it doubles after each failed run. */
export const LAUNCHER_FIRST_DELAY_S = 5;
/** The longest delay between restarts, in seconds. */
export const LAUNCHER_MAX_DELAY_S = 300;
/** A run at least this long (seconds) counts as healthy: the next failure waits the first delay. */
export const LAUNCHER_HEALTHY_S = 600;
/** How often the launcher looks for a self-updated successor still running, in seconds. */
export const LAUNCHER_WATCH_S = 30;

/** WMI on this machine (`\\.\root\cimv2`), as GetObject names it. */
const WMI_NAMESPACE = 'winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\cimv2';

/** The agents a launcher starts, as WMI's query language finds them (and uninstall ends them). */
const AGENT_MARK = '--service-manager task-scheduler';

/** Where the launcher is kept, beside the task's XML. */
export function launcherPath(homeDir: string): string {
  return win32.join(homeDir, 'AppData', 'Local', 'arena-agent', 'arena-agent-launcher.js');
}

/** A JScript (ES3) string literal holding `text`, in ASCII. */
export function jscriptString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else {
      // Astral characters are two UTF-16 units in JScript's strings, as here.
      for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    }
  }
  return `${out}"`;
}

/** The command line the launcher runs: node and its arguments, quoted as node.exe splits them. */
export function launcherCommandLine(command: ServiceCommand): string {
  return [command.program, ...command.args].map(windowsArg).join(' ');
}

/** The launcher's text. */
export function windowsLauncher(command: ServiceCommand): string {
  refusePercent(command);
  return `// Arena Relay bridge agent launcher, written by arena-agent install-service; removed by
// uninstall-service. The "arena-agent" Scheduled Task runs it with wscript.exe at log-on: it starts
// the agent with no window and starts it again after a failure, waiting longer each time.
var COMMAND = ${jscriptString(launcherCommandLine(command))};
var FOLDER = ${jscriptString(command.workingDirectory)};
var FIRST_DELAY_S = ${LAUNCHER_FIRST_DELAY_S};
var MAX_DELAY_S = ${LAUNCHER_MAX_DELAY_S};
var HEALTHY_S = ${LAUNCHER_HEALTHY_S};
var WATCH_S = ${LAUNCHER_WATCH_S};
var HANDED_OVER = ${EXIT_HANDED_OVER};
var HIDDEN = 0;

function agentRunning() {
  var wmi = GetObject(${jscriptString(WMI_NAMESPACE)});
  return wmi.ExecQuery(${jscriptString(`SELECT ProcessId FROM Win32_Process WHERE Name = 'node.exe' AND CommandLine LIKE '%${AGENT_MARK}%'`)}).Count > 0;
}

var shell = WScript.CreateObject("WScript.Shell");
shell.CurrentDirectory = FOLDER;
var delay = FIRST_DELAY_S;
for (;;) {
  var started = new Date().getTime();
  var code = -1;
  // node.exe gone (uninstalled, being upgraded): a failure like any other, tried again later.
  try {
    code = shell.Run(COMMAND, HIDDEN, true);
  } catch (e) {}
  // 0: stopped on purpose, or for good (a refused token, an unusable config): see arena-agent.log.
  if (code === 0) WScript.Quit(0);
  // A self-update: the new version runs, started by the old one. Wait for it to end.
  if (code === HANDED_OVER) {
    while (agentRunning()) WScript.Sleep(WATCH_S * 1000);
  }
  if (new Date().getTime() - started >= HEALTHY_S * 1000) delay = FIRST_DELAY_S;
  WScript.Sleep(delay * 1000);
  delay = Math.min(delay * 2, MAX_DELAY_S);
}
`;
}

/**
 * Ends every agent the task started (node processes whose command line carries
 * `--service-manager task-scheduler`, a self-updated one included): ending the task ends the
 * launcher, and Windows leaves a process's children running. A hard stop (streams are cut), for
 * uninstall and reinstall only. PowerShell 5.1 ships with Windows 10 and 11; `-EncodedCommand`
 * (base64 of UTF-16LE) passes the script through the command line with no quoting to get wrong.
 */
export const STOP_AGENTS_SCRIPT = `Get-CimInstance Win32_Process -Filter "Name = 'node.exe'" | Where-Object { $_.CommandLine -like '*${AGENT_MARK}*' } | ForEach-Object { Stop-Process -Id $_.ProcessId -Force -ErrorAction SilentlyContinue }`;

/** The command that runs STOP_AGENTS_SCRIPT. */
export function stopAgentsCommand(): { program: string; args: string[] } {
  const encoded = Buffer.from(STOP_AGENTS_SCRIPT, 'utf16le').toString('base64');
  return { program: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-EncodedCommand', encoded] };
}

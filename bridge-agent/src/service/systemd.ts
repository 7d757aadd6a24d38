/**
 * Linux: a systemd user unit (`~/.config/systemd/user/arena-agent.service`), restarted on
 * failure with a growing delay, except after a refused client token or an unusable config
 * (exit-codes.ts), started with the user's session (or at boot with `loginctl enable-linger`).
 * Quoting follows systemd.syntax(7) and systemd.service(5) "Command lines".
 */
import { EXIT_CREDENTIAL_REFUSED } from '../exit-codes.js';
import { SERVICE_NAME, type ServiceCommand } from './service-command.js';

/** systemd expands `%` specifiers in every value it reads, and `$VAR` in command lines. */
function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

/** One word of ExecStart: always double-quoted, C escapes for `\` and `"`, `%`/`$` doubled. */
export function systemdWord(word: string): string {
  const escaped = word
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('$', () => '$$');
  return `"${escapeSpecifiers(escaped)}"`;
}

/**
 * A path for a setting systemd takes verbatim (WorkingDirectory): no unquoting happens there, but
 * the parser strips surrounding blanks and reads a trailing backslash as a line continuation.
 */
function systemdPath(path: string): string {
  if (/^\s|\s$|\\$/.test(path)) {
    throw new Error(`systemd cannot hold the folder ${JSON.stringify(path)} (blank or backslash at an end)`);
  }
  return escapeSpecifiers(path);
}

export const SYSTEMD_UNIT_FILE = `${SERVICE_NAME}.service`;

/** The unit file's text. */
export function systemdUnit(command: ServiceCommand): string {
  const execStart = [command.program, ...command.args].map(systemdWord).join(' ');
  return `# Arena Relay bridge agent, written by \`arena-agent install-service\`; removed by uninstall-service.
[Unit]
Description=Arena Relay bridge agent
# The growing RestartSec below keeps a crashing agent far under this; systemd older than 254
# (fixed 5 s) gives up after 30 starts in 10 minutes rather than loop for ever.
StartLimitIntervalSec=10min
StartLimitBurst=30

[Service]
Type=simple
WorkingDirectory=${systemdPath(command.workingDirectory)}
ExecStart=${execStart}
Restart=on-failure
# 5 s after the first failure, growing to 5 minutes over 10 restarts (systemd >= 254).
RestartSec=5
RestartSteps=10
RestartMaxDelaySec=5min
# The relay refused the client token (replaced, unknown, disabled), or the config cannot be used:
# a restart gets the same answer. The agent reconnects to relays by itself, so only a crash restarts.
RestartPreventExitStatus=${EXIT_CREDENTIAL_REFUSED}
# The agent drains its streams for up to 10 s on SIGTERM.
TimeoutStopSec=20
# A self-update starts the new version before the old process exits: the service lives on while
# any of its processes does (systemd >= 250; older ones ignore the line).
ExitType=cgroup

[Install]
WantedBy=default.target
`;
}

/**
 * macOS: a launchd agent (`~/Library/LaunchAgents/org.arena-relay.arena-agent.plist`), started at
 * log-in, started again when it exits with a failure, at most once per ThrottleInterval (launchd
 * has no growing back-off; the agent reconnects to relays by itself, so only a crash restarts it).
 * A refused client token or an unusable config ends the agent with exit 0 under launchd
 * (`--service-manager launchd`): a success, which `SuccessfulExit` false leaves stopped
 * (exit-codes.ts). The agent writes its own rotated log beside its config (log-file.ts); launchd
 * keeps only stderr (what a crash prints before the logger runs), since it never rotates a file.
 */
import { posix } from 'node:path';
import { LAUNCHD_LABEL, type ServiceCommand } from './service-command.js';
import { xmlText } from './xml.js';

/** Where launchd puts the agent's stderr: a crash's last words. */
export function launchdLogPath(homeDir: string): string {
  return posix.join(homeDir, 'Library', 'Logs', 'arena-agent.log');
}

export function launchdPlistPath(homeDir: string): string {
  return posix.join(homeDir, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

const string = (value: string) => `<string>${xmlText(value)}</string>`;

/** The property list's text. */
export function launchdPlist(command: ServiceCommand, homeDir: string): string {
  const log = launchdLogPath(homeDir);
  const args = [command.program, ...command.args].map((arg) => `    ${string(arg)}`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Arena Relay bridge agent, written by \`arena-agent install-service\`; removed by uninstall-service. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  ${string(LAUNCHD_LABEL)}
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>WorkingDirectory</key>
  ${string(command.workingDirectory)}
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>AbandonProcessGroup</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>30</integer>
  <key>ExitTimeOut</key>
  <integer>20</integer>
  <key>ProcessType</key>
  ${string('Background')}
  <key>StandardOutPath</key>
  ${string('/dev/null')}
  <key>StandardErrorPath</key>
  ${string(log)}
</dict>
</plist>
`;
}

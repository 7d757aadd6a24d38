/** The agent's sub-commands, by name, with their usage lines. Without one, the agent runs. */
import type { CommandContext } from './context.js';
import { runDoctor } from './doctor.js';
import { installService, uninstallService } from './service.js';
import { runSetup } from './setup.js';

export type SubCommand = { run: (ctx: CommandContext) => Promise<number>; usage: string };

export const COMMANDS: Record<string, SubCommand> = {
  doctor: {
    run: (ctx) => runDoctor(ctx),
    usage: `Usage: arena-agent doctor [--bundle] [agent options]
Checks Node.js, the config, the proxy, each relay (reachable, TLS certificate, token) and the bridge
(running, userscript connected), one line each: ok / warn / fail, what, and the fix.
--bundle also writes arena-agent-diagnostics-<time>.zip in the current folder for the relay's
operator: the checks, versions, the config without its secrets, the last log lines, the running
agent's status.
Exit code: 0 nothing failed, 1 a check failed, 2 the config cannot be used.`,
  },
  setup: {
    run: (ctx) => runSetup(ctx),
    usage: `Usage: arena-agent setup [--service | --no-service] [agent options]
Checks Node.js; writes the agent options given (--upstream URL, --token T…) into config.jsonc and
checks it; runs doctor's checks; installs the service with --service, asks when run in a terminal,
never with --no-service. Exit code: 0 ready, 1 a check failed, 2 the config cannot be used.`,
  },
  'install-service': {
    run: installService,
    usage: `Usage: arena-agent install-service [--config FILE] [--dry-run]
Runs the agent at log-on and restarts it after a crash, with a back-off: a systemd user unit
(Linux), a launchd agent (macOS), a Scheduled Task running it hidden (Windows). The service reads
only FILE (default ./config.jsonc) and logs to arena-agent.log beside it.
--dry-run prints the file and the commands instead.`,
  },
  'uninstall-service': {
    run: uninstallService,
    usage: `Usage: arena-agent uninstall-service [--dry-run]
Stops and removes the service; running it again is harmless.`,
  },
};

/** Usage lines for the agent's main --help. */
export const COMMANDS_USAGE = `Commands (arena-agent <command> --help for each):
  setup                     check Node.js, write and check config.jsonc, optionally install the service
  doctor                    check everything the agent needs, one line each, with the fix
  install-service           run the agent at log-on, restarted on failure (systemd / launchd / Task Scheduler)
  uninstall-service         stop and remove that service`;

/**
 * The one place that says what a service runs: node's absolute path, node's own flags (so a
 * service installed from `npm run agent` keeps tsx's loader), the agent's entry file, and
 * `--config` with the config file's absolute path; the working directory is the config's folder.
 * A service gets no AGENT_* variables, so everything it needs must be in that file.
 */
import { posix, win32 } from 'node:path';
import type { ServiceManager } from '../config/schema.js';

/** The agent as a service runs it. */
export type ServiceCommand = {
  /** Absolute path of node (node.exe on Windows). */
  program: string;
  /** Arguments after the program, unquoted. */
  args: string[];
  workingDirectory: string;
  configPath: string;
};

export type ServiceCommandInput = {
  /** Which service manager: win32 Task Scheduler, darwin launchd, else systemd. */
  platform: NodeJS.Platform;
  execPath: string;
  execArgv: readonly string[];
  entry: string;
  configPath: string;
};

/** Path rules of the platform the service is for (tests build Windows files on Linux). */
export function pathsOf(platform: NodeJS.Platform): typeof posix {
  return platform === 'win32' ? win32 : posix;
}

/** Builds the service's command; every path must already be absolute. Throws naming the one that is not. */
export function serviceCommand(input: ServiceCommandInput): ServiceCommand {
  const paths = pathsOf(input.platform);
  for (const [what, value] of [
    ['node', input.execPath],
    ['the agent entry', input.entry],
    ['the config file', input.configPath],
  ] as const) {
    if (!paths.isAbsolute(value))
      throw new Error(`${what} path must be absolute, got ${JSON.stringify(value)}`);
    // No format here can carry a control character: a unit file splits lines, XML 1.0 forbids them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: those are what is refused.
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      throw new Error(`${what} path must not hold a control character (a line break, a tab…)`);
    }
  }
  return {
    program: input.execPath,
    // The manager is named so that a refused token exits with a code it does not restart.
    args: [
      ...input.execArgv,
      input.entry,
      '--config',
      input.configPath,
      '--service-manager',
      serviceManagerOf(input.platform),
    ],
    workingDirectory: paths.dirname(input.configPath),
    configPath: input.configPath,
  };
}

/** The service manager `install-service` uses on a platform. */
export function serviceManagerOf(platform: NodeJS.Platform): ServiceManager {
  if (platform === 'win32') return 'task-scheduler';
  return platform === 'darwin' ? 'launchd' : 'systemd';
}

/** The name every platform's service goes by. */
export const SERVICE_NAME = 'arena-agent';
/** launchd wants a reverse-DNS label. */
export const LAUNCHD_LABEL = 'org.arena-relay.arena-agent';

/**
 * The logger of one agent run: JSON lines on stdout as always, and the very same bytes (redacted
 * and made inert by logging.ts before any destination sees them) in the rotating log file when
 * the run has one. And what a run that cannot start says: its configuration's problems, on stderr
 * and, under a service manager, in that log file, with an exit code the manager does not restart.
 */
import { existsSync } from 'node:fs';
import { type ConfigError, configFilePath } from '../config/load-config.js';
import { type AgentConfig, FIELDS, SERVICE_MANAGERS, type ServiceManager } from '../config/schema.js';
import { flagLayer } from '../config/sources.js';
import { configErrorExit } from '../exit-codes.js';
import { createLogger, type Logger } from '../logging.js';
import { defaultLogFile, logFileOf, RotatingLogFile, type RotatingLogOptions } from './log-file.js';

type Sink = { write(text: string): unknown };

export type RunLog = {
  logger: Logger;
  /** The log file written, or undefined when there is none (or it could not be opened). */
  logFile: string | undefined;
  /** Idempotent. */
  close(): void;
};

export type RunLogOptions = RotatingLogOptions & { console?: Sink };

/**
 * Opens this run's logger. `configPath` is the config file read, or undefined when there was none
 * (settings from the environment and flags only: no folder to put a log file beside).
 */
export function openRunLog(
  config: Pick<AgentConfig, 'logFile' | 'serviceManager' | 'logLevel'>,
  configPath: string | undefined,
  options: RunLogOptions = {},
): RunLog {
  const console = options.console ?? process.stdout;
  const path = logFileOf(config, configPath);
  if (path === undefined) {
    return { logger: createLogger({ level: config.logLevel }), logFile: undefined, close() {} };
  }
  let file: RotatingLogFile;
  try {
    file = new RotatingLogFile(path, options);
  } catch (error) {
    // No log file is no reason not to serve: the console still has every line.
    const logger = createLogger({ level: config.logLevel, destination: { write: (l) => console.write(l) } });
    logger.warn({ logFile: path, error: (error as Error).message }, 'cannot open the log file; console only');
    return { logger, logFile: undefined, close() {} };
  }
  const destination = {
    write(line: string) {
      file.write(line);
      console.write(line);
    },
  };
  return {
    logger: createLogger({ level: config.logLevel, destination }),
    logFile: path,
    close: () => file.close(),
  };
}

/**
 * The manager named by `--service-manager` or AGENT_SERVICE_MANAGER, read without the rest of the
 * configuration (which may be what failed): the service files pass it as a flag.
 */
export function serviceManagerFrom(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ServiceManager {
  const raw = flagLayer(argv).values.serviceManager ?? env[FIELDS.serviceManager.env];
  return SERVICE_MANAGERS.find((manager) => manager === raw) ?? 'none';
}

/** The managers as an owner knows them. */
const MANAGER_WORDS: Record<Exclude<ServiceManager, 'none'>, string> = {
  systemd: 'systemd',
  launchd: 'launchd',
  'task-scheduler': 'the Scheduled Task',
};

export type ConfigErrorInput = {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  stderr?: Sink;
};

/**
 * Says why the configuration cannot be used, on stderr and, under a service manager, in the log
 * file beside config.jsonc (no one reads a hidden console); returns the exit code to end with.
 */
export function reportConfigError(error: ConfigError, input: ConfigErrorInput): number {
  const manager = serviceManagerFrom(input.argv, input.env);
  const code = configErrorExit(manager);
  (input.stderr ?? process.stderr).write(`${error.message}\n`);
  const configPath = configFilePath(input.argv, input.env, input.cwd);
  if (manager === 'none' || !existsSync(configPath)) return code;
  const words = MANAGER_WORDS[manager];
  let file: RotatingLogFile;
  try {
    file = new RotatingLogFile(defaultLogFile(configPath));
  } catch {
    return code;
  }
  createLogger({ level: 'info', destination: file }).fatal(
    { exitCode: code, problems: error.problems, config: configPath },
    `the configuration cannot be used; the agent stops and ${words} leaves it stopped: fix ${configPath}, then start it again`,
  );
  file.close();
  return code;
}

/**
 * `npm run agent` / `node arena-agent.mjs`: a sub-command (setup, doctor, install-service,
 * uninstall-service) when the first argument names one; otherwise loads the configuration (exit 2
 * when it is wrong, or under a service manager the code it does not restart), starts the agent, logs its connection, exits 1 when the relay refuses it for
 * good, drains and closes on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { type Agent, startAgent } from './agent.js';
import { COMMANDS, COMMANDS_USAGE } from './commands/commands.js';
import { type CommandContext, execRunner } from './commands/context.js';
import {
  ConfigError,
  configFilePath,
  loadConfigWithOrigins,
  USAGE,
  wantsHelp,
} from './config/load-config.js';
import { proxyFor } from './config/proxy-url.js';
import type { AgentConfig, FieldName } from './config/schema.js';
import { fatalExitCode, handedOverExit } from './exit-codes.js';
import type { Logger } from './logging.js';
import { openRunLog, reportConfigError } from './service/run-log.js';
import { trustedCas } from './tunnel/relay-tls.js';
import { RELEASE_KEYS_FILE, ReleaseTrust } from './update/release-trust.js';
import { HANDOVER_ENV, HANDOVER_READY, type NextProcess, SelfUpdate } from './update/self-update.js';
import { AGENT_VERSION, BUNDLED_RELEASE_KEY } from './version.js';

/** In-flight streams get this long to finish on the first SIGINT/SIGTERM, in ms. */
const DRAIN_MS = 10_000;
/** After a self-update hands over, the old process's streams get this long, in ms. */
const UPDATE_DRAIN_MS = 15 * 60_000;
/** Set for a process started by a self-update: the file it must take the name of. */
const ENTRY_ENV = 'ARENA_AGENT_ENTRY';

/** The running file when it is the single-file bundle (self-update replaces only that). */
function bundleEntry(): string | undefined {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.mjs')) return undefined;
  return process.env[ENTRY_ENV] ?? self;
}

/** The next version as a child that outlives this process once released. */
function startNext(file: string, entry: string): NextProcess {
  const child = spawn(process.execPath, [...process.execArgv, file, ...process.argv.slice(2)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [HANDOVER_ENV]: '1', [ENTRY_ENV]: entry },
    windowsHide: true,
  });
  const next: NextProcess = {
    on(event: 'message' | 'exit', listener: (value: never) => void) {
      child.on(event, listener as (...args: unknown[]) => void);
      return next;
    },
    kill: () => child.kill(),
    release() {
      child.disconnect();
      child.unref();
    },
  };
  return next;
}

/** Wires self-update when this process runs as the bundle with auto_update on. */
function wireSelfUpdate(
  agent: Agent,
  config: AgentConfig,
  logger: Logger,
  trust: ReleaseTrust,
  entry: string,
  leave: () => void,
): void {
  if (trust.pinned === undefined) {
    logger.warn('no release key is pinned (release_key in config.jsonc): agent updates will be refused');
  }
  const updater = new SelfUpdate({
    entry,
    currentVersion: AGENT_VERSION,
    trust,
    token: config.token,
    ca: trustedCas(config.caFile),
    proxyFor: (url) => proxyFor(url, config.proxyUrl, config.proxyEnv),
    logger,
    start: (file) => startNext(file, entry),
    handOver: leave,
  });
  agent.on('update', (offer, connectUrl, report) => void updater.offer(offer, connectUrl, report));
}

function contextOf(argv: readonly string[]): CommandContext {
  const user = userInfo();
  const domain = process.platform === 'win32' ? process.env.USERDOMAIN : undefined;
  return {
    argv,
    env: process.env,
    cwd: process.cwd(),
    platform: process.platform,
    homeDir: homedir(),
    user: { name: domain ? `${domain}\\${user.username}` : user.username, uid: user.uid },
    execPath: process.execPath,
    execArgv: process.execArgv,
    entry: resolve(process.argv[1] ?? 'arena-agent.mjs'),
    nodeVersion: process.versions.node,
    run: execRunner,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] === undefined ? undefined : COMMANDS[argv[0]];
  if (command) {
    const rest = argv.slice(1);
    if (rest.includes('--help') || rest.includes('-h')) return console.log(command.usage);
    process.exitCode = await command.run(contextOf(rest));
    return;
  }
  if (wantsHelp(argv)) {
    console.log(`${USAGE}\n\n${COMMANDS_USAGE}`);
    return;
  }
  let config: AgentConfig;
  let explicit: Set<FieldName>;
  try {
    ({ config, explicit } = loadConfigWithOrigins({ argv, env: process.env }));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Under a service manager: said in the log file too, and an exit code it does not restart.
    process.exit(reportConfigError(error, { argv, env: process.env }));
  }
  const configPath = configFilePath(argv, process.env);
  const { logger, logFile } = openRunLog(config, existsSync(configPath) ? configPath : undefined);
  const entry = config.autoUpdate ? bundleEntry() : undefined;
  // Read before the agent starts: an offer may come with the first welcome.
  const trust =
    entry === undefined
      ? undefined
      : await ReleaseTrust.load(
          config.releaseKey ?? BUNDLED_RELEASE_KEY,
          join(dirname(entry), RELEASE_KEYS_FILE),
        );
  const handedOver = process.env[HANDOVER_ENV] === '1' && process.send !== undefined;
  delete process.env[HANDOVER_ENV];
  const agent = await startAgent(config, {
    logger,
    explicit,
    autoUpdate: entry !== undefined,
    logFile,
    ...(handedOver ? { statusPortRetryMs: 500 } : {}),
  });
  if (handedOver) {
    // The process that started this one waits for this word, then drains and leaves.
    agent.once('connected', () => process.send?.({ type: HANDOVER_READY, version: AGENT_VERSION }));
  }
  // Handlers before the first announcement: a supervisor that reads it and signals at once must
  // get a graceful stop, not the default kill.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal, drainMs: DRAIN_MS }, 'stopping: finishing in-flight streams');
    void agent.close({ drainMs: DRAIN_MS }).finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (entry !== undefined && trust !== undefined) {
    wireSelfUpdate(agent, config, logger, trust, entry, () => {
      if (stopping) return;
      stopping = true;
      void agent
        .releaseStatusPort()
        .then(() => agent.close({ drainMs: UPDATE_DRAIN_MS }))
        .finally(() => process.exit(handedOverExit(config.serviceManager)));
    });
  }
  logger.info(
    { relays: config.relayUrls, status: agent.statusUrl ?? 'disabled', logFile: logFile ?? null },
    'agent started',
  );
  agent.on('connected', (sessionId) => {
    const relays = agent.status().connections.filter((link) => link.connected);
    logger.info({ sessionId, relays: relays.map((link) => link.relay_url) }, 'connected to the relay');
  });
  agent.on('disconnected', (reason) => logger.warn({ reason }, 'disconnected from the relay'));
  agent.on('fatal', (error) => {
    const code = fatalExitCode(error as { status?: number }, config.serviceManager);
    // Once, in words; the exit code tells the service manager not to restart into the same refusal.
    logger.fatal({ exitCode: code }, error.message);
    void agent.close().finally(() => process.exit(code));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

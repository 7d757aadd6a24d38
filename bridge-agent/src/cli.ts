/**
 * `npm run agent` / `node arena-agent.mjs`: a sub-command (setup, doctor, install-service,
 * uninstall-service) when the first argument names one; otherwise loads the configuration (exit 2
 * when it is wrong), starts the agent, logs its connection, exits 1 when the relay refuses it for
 * good, drains and closes on SIGINT/SIGTERM.
 */
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { startAgent } from './agent.js';
import { COMMANDS, COMMANDS_USAGE } from './commands/commands.js';
import { type CommandContext, execRunner } from './commands/context.js';
import { ConfigError, loadConfig, USAGE, wantsHelp } from './config/load-config.js';
import type { AgentConfig } from './config/schema.js';
import { createLogger } from './logging.js';

/** In-flight streams get this long to finish on the first SIGINT/SIGTERM, in ms. */
const DRAIN_MS = 10_000;

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
  try {
    config = loadConfig({ argv, env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel });
  const agent = await startAgent(config, { logger });
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
  logger.info({ relays: config.relayUrls, status: agent.statusUrl ?? 'disabled' }, 'agent started');
  agent.on('connected', (sessionId) => {
    const relays = agent.status().connections.filter((link) => link.connected);
    logger.info({ sessionId, relays: relays.map((link) => link.relay_url) }, 'connected to the relay');
  });
  agent.on('disconnected', (reason) => logger.warn({ reason }, 'disconnected from the relay'));
  agent.on('fatal', (error) => {
    logger.fatal(error.message);
    void agent.close().finally(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

/** `npm start`: runs a relay from environment variables until SIGINT/SIGTERM. */
import { ConfigError, loadConfig } from './config/load-config.js';
import { createLogger } from './log/logger.js';
import { startRelay } from './server.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  // Signal handlers go in before anything is announced: a supervisor that reads "listening" and
  // sends SIGTERM at once must get a graceful stop, not the default kill.
  let stopping = false;
  const starting = startRelay(config, { logger });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    starting
      .then((relay) => relay.close({ graceMs: config.shutdownGraceMs }))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const relay = await starting;
  if (relay.generatedAdminToken) {
    // Printed once, on stderr and outside the JSON log, so log shippers never see it.
    console.error(
      `\nGenerated admin token (shown once; set ADMIN_TOKEN to choose your own):\n\n  ${relay.generatedAdminToken}\n`,
    );
  }
  console.error(`Arena Relay listening on ${relay.url}  (dashboard: ${relay.url}/dashboard)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

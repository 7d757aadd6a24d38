/** The relay's pino root. Secrets are redacted wherever they could appear (shared/src/log-redaction.ts). */
import { LOG_CENSOR, LOG_REDACT_PATHS, redactSecretsInText } from '@arena-relay/shared';
import { type Logger, pino } from 'pino';

export type LoggerOptions = { level: string; destination?: pino.DestinationStream };

/** Creates the root logger: JSON lines, secret fields censored, credentials in URLs too. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'relay' },
      redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_CENSOR },
      hooks: { streamWrite: redactSecretsInText },
    },
    options.destination,
  );
}

export type { Logger };

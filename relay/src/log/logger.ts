/** The relay's pino root. Secrets are redacted wherever they could appear. */
import { type Logger, pino } from 'pino';

export const REDACT_PATHS = [
  'token',
  'key',
  'apiKey',
  'api_key',
  'adminToken',
  'authorization',
  '*.token',
  '*.key',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
];

export type LoggerOptions = { level: string; destination?: pino.DestinationStream };

/** Creates the root logger: JSON lines, `authorization`/tokens censored. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'relay' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

export type { Logger };

/** The agent's pino root. The client token and any authorization header are always redacted. */
import { type DestinationStream, type Logger, pino } from 'pino';

export const REDACT_PATHS = [
  'token',
  'api_key',
  'apiKey',
  'upstreamApiKey',
  'authorization',
  '*.token',
  '*.api_key',
  '*.authorization',
  'headers.authorization',
];

export type LoggerOptions = { level: string; destination?: DestinationStream };

/** Creates the root logger: JSON lines on stdout (or `destination`), secrets censored. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'bridge-agent' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

export type { Logger };

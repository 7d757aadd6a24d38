/** The agent's pino root. Secrets are always redacted (shared/src/log-redaction.ts). */
import { LOG_CENSOR, LOG_REDACT_PATHS, redactSecretsInText } from '@arena-relay/shared';
import { type DestinationStream, type Logger, pino } from 'pino';

export type LoggerOptions = { level: string; destination?: DestinationStream };

// JSON escapes C0 but leaves DEL, C1 (0x9B is CSI to a terminal), bidi controls and the Unicode
// line separators raw, and log lines quote the relay's and the bridge's words.
const UNPRINTABLE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A serialised log line with every such character written as a JSON `\uXXXX` escape: they occur
 * only inside JSON strings, so the line parses to the same values and prints inert. One regex pass
 * per line (no line is logged per chunk).
 */
export function inertLogLine(line: string): string {
  return line.replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Creates the root logger: JSON lines on stdout (or `destination`), secrets censored. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'bridge-agent' },
      redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_CENSOR },
      hooks: { streamWrite: (line) => inertLogLine(redactSecretsInText(line)) },
    },
    options.destination,
  );
}

export type { Logger };

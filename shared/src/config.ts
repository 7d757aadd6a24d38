/**
 * What the relay's and the agent's configuration loaders share: the log levels, the one rule for
 * reading a boolean, and the error both throw listing every bad value.
 */
import { z } from 'zod';

/** pino's levels, quietest last; the relay's LOG_LEVEL, the agent's log_level and `settings.logLevel`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log level setting, with the message both programs give for a wrong one. */
export const logLevelSetting = z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` });

/** The spellings a boolean setting accepts, matched trimmed and case-insensitively. */
export const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/** A boolean word as a boolean; anything else (a real boolean, a typo) is returned as it came. */
export function toBoolean(value: unknown): unknown {
  return typeof value === 'string' ? (BOOLEAN_WORDS[value.trim().toLowerCase()] ?? value) : value;
}

/** A boolean from a JSON boolean or one of BOOLEAN_WORDS; `undefined` stays undefined (add a default). */
export const booleanSetting = z.preprocess(toBoolean, z.boolean({ error: 'must be true or false' }));

/** Thrown by a program's `loadConfig`; `problems` holds one line per bad or missing value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** `relay` or `agent`: which program's configuration, for the first line of the message. */
    program: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${program} configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/**
 * The agent's own log file, `arena-agent.log` beside config.jsonc: written whenever the agent runs
 * under a service manager (no one reads a hidden console) or when `log_file` names one. It gets
 * exactly the console's bytes, after pino's redaction (logging.ts), and rotates by size: a write
 * that would take the file past `maxBytes` first renames it `.1` (`.1` → `.2` …, the oldest
 * dropped), so the agent's logs on disk never exceed (keep + 1) × maxBytes. Synchronous writes:
 * the agent logs per connection and per request, never per chunk, and a line written before a
 * crash is a line the owner can read. While a self-update hands over, two processes append to the
 * same file, each rotating by its own count: for that while a file may reach twice the bound.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { type CheckLine, ok } from '../doctor/check-line.js';

export const LOG_FILE_NAME = 'arena-agent.log';
/** Size bound of one file, in bytes (5 MiB). */
export const LOG_MAX_BYTES = 5 * 1024 * 1024;
/** Rotated files kept besides the current one (`.1` newest … `.3` oldest). */
export const LOG_KEEP = 3;

/** The file beside config.jsonc a service writes. */
export function defaultLogFile(configPath: string): string {
  return join(dirname(configPath), LOG_FILE_NAME);
}

/**
 * Where the agent logs when it runs as a service: `log_file` when set (a relative one is taken
 * from the config file's folder, as `ca_file` is, else from the working folder), else beside
 * config.jsonc. `configPath` is the config file read, undefined when there was none (then only
 * `log_file` gives one).
 */
export function serviceLogFile(
  config: Pick<AgentConfig, 'logFile'>,
  configPath: string | undefined,
): string | undefined {
  if (config.logFile !== undefined) {
    if (isAbsolute(config.logFile)) return config.logFile;
    return resolve(configPath === undefined ? process.cwd() : dirname(configPath), config.logFile);
  }
  return configPath === undefined ? undefined : defaultLogFile(configPath);
}

/** Where this run writes its log file: as a service, or wherever `log_file` says; else nowhere. */
export function logFileOf(
  config: Pick<AgentConfig, 'logFile' | 'serviceManager'>,
  configPath: string | undefined,
): string | undefined {
  const wanted = config.logFile !== undefined || config.serviceManager !== 'none';
  return wanted ? serviceLogFile(config, configPath) : undefined;
}

export type RotatingLogOptions = { maxBytes?: number; keep?: number };

/** A pino destination appending lines to `path`, rotated by size. Never throws from `write`. */
export class RotatingLogFile {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #fd: number | undefined;
  #size = 0;
  /** Set once a write failed (disk full, file removed from under a read-only folder…). */
  #broken = false;

  /** Opens (creating folder and file) for appending; throws when that is impossible. */
  constructor(path: string, options: RotatingLogOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
    this.#keep = options.keep ?? LOG_KEEP;
    mkdirSync(dirname(path), { recursive: true });
    this.#open();
  }

  #open(): void {
    // 0o600: the log names relays, client ids and the bridge's words; it is the owner's to read.
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  /** `.1` → `.2` … (the last one dropped), the current file → `.1`, a fresh current file. */
  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(`${this.path}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    if (this.#keep > 0) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.#open();
  }

  write(line: string): void {
    if (this.#broken) return;
    let bytes = Buffer.from(line, 'utf8');
    if (bytes.length > this.#maxBytes) {
      // One line cannot break the bound (a bridge's words quoted at length): say what was left out.
      bytes = Buffer.from(
        `${JSON.stringify({ level: 40, time: Date.now(), msg: `a log line of ${bytes.length} bytes was left out: longer than the log file's bound` })}\n`,
      );
    }
    try {
      if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
      this.#size += writeSync(this.#fd!, bytes);
    } catch (error) {
      // The agent keeps serving without its file; stderr is what a manager may still keep.
      this.#broken = true;
      process.stderr.write(`arena-agent: stopped writing ${this.path}: ${(error as Error).message}\n`);
    }
  }

  /** Idempotent. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#broken = true;
  }
}

/** doctor's line: where the log file is (or would be), how big, when last written. */
export function logFileLine(config: Pick<AgentConfig, 'logFile'>, configPath: string | undefined): CheckLine {
  const path = serviceLogFile(config, configPath);
  if (path === undefined) return ok('log file', 'none: no config file to keep it beside (log_file sets one)');
  try {
    const { size, mtime } = statSync(path);
    return ok('log file', `${path} (${Math.ceil(size / 1024)} KiB, last written ${mtime.toISOString()})`);
  } catch {
    return ok('log file', `${path} (not written yet: the agent writes it when it runs as a service)`);
  }
}

/**
 * What a sub-command may touch of the world: its arguments, the environment, the platform and home
 * folder, how node was started, a runner for external programs and the terminal. cli.ts builds it
 * from `process`; tests build one over a temp folder and a recording runner.
 */
import { execFile } from 'node:child_process';

/** Outcome of one external program. `code` is its exit status (127 when it could not be started). */
export type RunResult = { code: number; stdout: string; stderr: string };

/** Runs `program` with `args`, no shell in between. Never rejects. */
export type Runner = (program: string, args: readonly string[]) => Promise<RunResult>;

export type CommandContext = {
  /** Arguments after the sub-command's name. */
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  platform: NodeJS.Platform;
  homeDir: string;
  /** The user a service runs as: name (with `DOMAIN\` on Windows when known) and uid (-1 on Windows). */
  user: { name: string; uid: number };
  /** node's absolute path, its own flags (a loader such as tsx's) and the agent's entry file. */
  execPath: string;
  execArgv: readonly string[];
  entry: string;
  /** `process.versions.node`. */
  nodeVersion: string;
  run: Runner;
  /** True when a person can answer questions on stdin. */
  interactive: boolean;
  /** Asks one question on the terminal; only called when `interactive`. */
  ask(question: string): Promise<string>;
  /** One line of output (no newline). */
  out(line: string): void;
  /** One line on stderr. */
  err(line: string): void;
};

/** Exit codes every sub-command uses. */
export const EXIT = { ok: 0, failed: 1, unusable: 2 } as const;

/** Runs a program with execFile (no shell), collecting its output. */
export const execRunner: Runner = (program, args) =>
  new Promise((resolve) => {
    execFile(program, [...args], { windowsHide: true }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({
        code,
        stdout: String(stdout),
        stderr: String(stderr || (error && code === 127 ? error.message : '')),
      });
    });
  });

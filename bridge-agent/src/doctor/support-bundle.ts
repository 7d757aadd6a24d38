/**
 * `doctor --bundle`: one zip a bridge owner can send to the relay's operator, in the manner of
 * cloudflared's `tunnel diag`: doctor's checks, versions and OS, the config with every secret
 * removed, the last log lines (a log file beside config.jsonc, launchd's log on macOS, the systemd
 * journal on Linux) and the running agent's `/platform/status` and `/stats`. Every text in it
 * passes one last scrub of the secret values themselves, so a secret that found its way into a
 * log line or a status answer still does not leave the machine.
 */
import { open, writeFile } from 'node:fs/promises';
import { arch, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { strToU8, type Zippable, zipSync } from 'fflate';
import type { Runner } from '../commands/context.js';
import type { AgentConfig } from '../config/schema.js';
import { launchdLogPath } from '../service/launchd.js';
import { SYSTEMD_UNIT_FILE } from '../service/systemd.js';
import { AGENT_VERSION } from '../version.js';
import { type CheckLine, formatLine } from './check-line.js';
import { redactedConfig, scrub, secretsOf } from './redact.js';

/** Log lines kept, from the end. */
export const BUNDLE_LOG_LINES = 200;
/** At most this much of a log file's end is read, in bytes. */
const LOG_TAIL_BYTES = 256 * 1024;
/** How long the running agent's status server may take, in ms. */
const STATUS_TIMEOUT_MS = 2_000;
/** A status answer larger than this is cut, in characters. */
const STATUS_MAX_CHARS = 1_000_000;

export type BundleInput = {
  /** doctor's lines, in order. */
  lines: readonly CheckLine[];
  /** Why the config cannot be used, when it cannot. */
  problems: readonly string[];
  config: AgentConfig | undefined;
  configPath: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  homeDir: string;
  nodeVersion: string;
  run: Runner;
  now: Date;
};

/** The last `BUNDLE_LOG_LINES` lines of `file`, or undefined when it cannot be read. */
async function tail(file: string): Promise<string | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer
        .toString('utf8')
        .split(/\r?\n/)
        .slice(-BUNDLE_LOG_LINES - 1)
        .join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** Every log the agent may have left on this machine, each under a heading naming it. */
async function logs(input: BundleInput): Promise<string | undefined> {
  const parts: string[] = [];
  const files = [join(dirname(input.configPath), 'arena-agent.log')];
  if (input.platform === 'darwin') files.push(launchdLogPath(input.homeDir));
  for (const file of files) {
    const text = await tail(file);
    if (text !== undefined) parts.push(`== ${file} (last ${BUNDLE_LOG_LINES} lines)\n${text}`);
  }
  if (input.platform === 'linux') {
    const args = [
      '--user',
      '-u',
      SYSTEMD_UNIT_FILE,
      '-n',
      String(BUNDLE_LOG_LINES),
      '--no-pager',
      '-o',
      'cat',
    ];
    const journal = await input.run('journalctl', args);
    if (journal.code === 0 && journal.stdout.trim() !== '') {
      parts.push(`== journalctl ${args.join(' ')}\n${journal.stdout}`);
    }
  }
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/** `path` of the agent's status server, or why it could not be read. */
async function statusOf(port: number, path: string): Promise<{ text: string } | { problem: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
    const text = (await res.text()).slice(0, STATUS_MAX_CHARS);
    return res.ok ? { text } : { problem: `HTTP ${res.status}` };
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    return { problem: cause?.code ?? (error as Error).message };
  }
}

/** The running agent's answers, or a note saying why there are none. */
async function runningAgent(config: AgentConfig | undefined): Promise<Record<string, string>> {
  if (!config) return { 'status.txt': 'not asked: the config cannot be used\n' };
  if (config.statusPort <= 0) {
    return {
      'status.txt': `not asked: the status server is ${config.statusPort === 0 ? 'on a random port' : 'off'} (status_port ${config.statusPort})\n`,
    };
  }
  const status = await statusOf(config.statusPort, '/platform/status');
  if ('problem' in status) {
    return {
      'status.txt': `no agent answered on 127.0.0.1:${config.statusPort} (${status.problem}): it is not running, or runs with another status_port\n`,
    };
  }
  const stats = await statusOf(config.statusPort, '/stats');
  return { 'status.json': status.text, ...('text' in stats && { 'stats.json': stats.text }) };
}

const README = `Arena Relay bridge agent: diagnostics bundle, made by \`arena-agent doctor --bundle\`.
Send this file to the relay's operator. Secrets were removed before it was written: the client
token, the bridge's API key and any proxy user and password appear as [redacted] or ***.

checks.txt / checks.json  doctor's checks, each with its fix
versions.json             agent, Node.js, operating system and architecture
config.json               the settings in use, secrets removed (or why the config cannot be used)
logs.txt                  the agent's last log lines, when a log was found
status.json, stats.json   the running agent's /platform/status and /stats (status.txt: why not)
`;

/** The bundle's files, by name, every text scrubbed of the secrets. */
export async function bundleFiles(input: BundleInput): Promise<Record<string, string>> {
  const checks = [...input.lines.map(formatLine), ...input.problems.map((problem) => `        - ${problem}`)];
  const files: Record<string, string> = {
    'README.txt': README,
    'checks.txt': `${checks.join('\n')}\n`,
    'checks.json': JSON.stringify({ lines: input.lines, config_problems: input.problems }, null, 2),
    'versions.json': JSON.stringify(
      {
        agent: AGENT_VERSION,
        node: input.nodeVersion,
        platform: input.platform,
        arch: arch(),
        os: `${osType()} ${release()}`,
        created_at: input.now.toISOString(),
      },
      null,
      2,
    ),
    'config.json': JSON.stringify(
      {
        file: input.configPath,
        ...(input.config ? { settings: redactedConfig(input.config) } : { problems: input.problems }),
      },
      null,
      2,
    ),
    ...(await runningAgent(input.config)),
  };
  const log = await logs(input);
  if (log !== undefined) files['logs.txt'] = log;
  const secrets = secretsOf(input.config, input.env);
  for (const [name, text] of Object.entries(files)) files[name] = scrub(text, secrets);
  return files;
}

/** `arena-agent-diagnostics-20261206-071500.zip` for `now` (UTC). */
export function bundleName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `arena-agent-diagnostics-${stamp}.zip`;
}

/** Writes the zip into `dir` (readable by the owner only); returns its path. */
export async function writeSupportBundle(dir: string, input: BundleInput): Promise<string> {
  const files = await bundleFiles(input);
  const entries: Zippable = {};
  for (const [name, text] of Object.entries(files)) entries[name] = [strToU8(text), { mtime: input.now }];
  const path = join(dir, bundleName(input.now));
  await writeFile(path, zipSync(entries, { level: 6 }), { mode: 0o600 });
  return path;
}

/**
 * `loadConfig`: config.jsonc, then environment, then flags, validated once by one schema. Every
 * problem found is listed in a single `ConfigError`, so a wrong setup is fixed in one go.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@arena-relay/shared';
import type { z } from 'zod';
import { parseProxyUrl, proxyEnvOf } from './proxy-url.js';
import { type AgentConfig, configSchema, FIELDS, type FieldName, type FieldSource } from './schema.js';
import { envLayer, fileLayer, flagLayer, type Layer, mergeLayers } from './sources.js';

/** Thrown by `loadConfig` (one class for relay and agent, in shared/). */
export { ConfigError };

export type LoadConfigInput = {
  /** Command-line arguments, without node and the script (`process.argv.slice(2)`). */
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** Folder a relative config path is resolved against (default: the process's). */
  cwd?: string;
  /** Reads a file as UTF-8; returns undefined when it does not exist. Defaults to the real disk. */
  readFile?: (path: string) => string | undefined;
};

/** The file read when neither `--config` nor `AGENT_CONFIG` names one. */
export const DEFAULT_CONFIG_PATH = './config.jsonc';

export const USAGE = `Usage: arena-relay-agent [options]

Reads config.jsonc, then AGENT_* environment variables, then these flags (later wins):
  --config <path>           config file (AGENT_CONFIG; default ./config.jsonc)
  --relay <url>[,<url>…]    relay address(es), http(s) or ws(s), one per relay (AGENT_RELAY_URL)
  --connections <n>         sockets to different relays at once, sharing max-concurrency
                            (AGENT_CONNECTIONS; default 2, at most one per relay address)
  --token <token>           client token (AGENT_TOKEN)
  --ca <file>               PEM CA certificate(s) trusted for the relay, besides the system's (AGENT_CA_FILE)
  --client-id <id>          client id (AGENT_CLIENT_ID)
  --upstream <url>          the bridge's address (AGENT_UPSTREAM_URL; default http://127.0.0.1:5102)
  --bridge <dialect>        auto|lmarenabridge-v2|lmarenabridge-cw|webai2api|openai (AGENT_BRIDGE;
                            default auto: found from what upstream_url answers)
  --max-concurrency <n>     streams served at once (AGENT_MAX_CONCURRENCY; default 4)
  --status-port <port>      local status server on 127.0.0.1; 0 = any, -1 = off (AGENT_STATUS_PORT; default 5103)
  --log-level <level>       fatal|error|warn|info|debug|trace|silent (AGENT_LOG_LEVEL; default info)
  --proxy <url>             proxy for reaching the relay: http://[user:pass@]host:port or socks5://…
                            (AGENT_PROXY_URL; default HTTPS_PROXY / ALL_PROXY minus NO_PROXY; never for loopback)
  --desktop-notifications <bool>
                            a desktop notification when the bridge needs you (captcha, session, closed tab)
                            (AGENT_DESKTOP_NOTIFICATIONS; default false)
  --auto-update <bool>      take the agent version the relay offers (AGENT_AUTO_UPDATE; default false,
                            true in client packages; only when run as the arena-agent.mjs bundle)
  --service-manager <name>  none|systemd|launchd|task-scheduler: what runs the agent, so a refused
                            token exits with a code it does not restart (set by install-service)
  --help                    show this text
The bridge's own API key, if it has one: upstream_api_key or AGENT_UPSTREAM_API_KEY.
A rotating log file (a service writes arena-agent.log beside the config anyway): log_file or AGENT_LOG_FILE.`;

function readFromDisk(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Describes one schema issue: the setting's name, where its value came from, what is wrong. */
function describe(issue: z.core.$ZodIssue, merged: Layer): string {
  const name = issue.path[0] as FieldName;
  const source: FieldSource = FIELDS[name];
  const origin = merged.origins[name];
  if (origin === undefined) {
    const where = [source.file, source.env, source.flag].filter(Boolean).join(', ');
    return `${source.file} ${issue.message} (set it with ${where})`;
  }
  const value = merged.values[name];
  const shown = source.secret ? '' : `, got ${JSON.stringify(value)}`;
  return `${source.file} (from ${origin}) ${issue.message}${shown}`;
}

/** The absolute path of the config file `loadConfig` reads: `--config`, else AGENT_CONFIG, else ./config.jsonc. */
export function configFilePath(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
): string {
  return resolve(cwd, flagLayer(argv).configPath ?? (env.AGENT_CONFIG || undefined) ?? DEFAULT_CONFIG_PATH);
}

/**
 * Loads and validates the agent configuration. Throws `ConfigError` listing every problem.
 * A missing default config file is fine; a missing file named by `--config`/`AGENT_CONFIG` is not.
 */
export function loadConfig(input: LoadConfigInput): AgentConfig {
  return loadConfigWithOrigins(input).config;
}

/**
 * `loadConfig`, and which settings the owner gave explicitly (config file, environment or flag):
 * those win over what the relay pushes (`settings` frames); the rest are defaults it may change.
 */
export function loadConfigWithOrigins(input: LoadConfigInput): {
  config: AgentConfig;
  explicit: Set<FieldName>;
} {
  const readFile = input.readFile ?? readFromDisk;
  const flags = flagLayer(input.argv);
  const explicitPath = flags.configPath ?? (input.env.AGENT_CONFIG || undefined);
  const path = configFilePath(input.argv, input.env, input.cwd);
  const layers: Layer[] = [];
  let text: string | undefined;
  try {
    text = readFile(path);
  } catch (error) {
    layers.push({ values: {}, origins: {}, problems: [`cannot read ${path}: ${(error as Error).message}`] });
  }
  if (text !== undefined) layers.push(fileLayer(text, path));
  else if (explicitPath !== undefined && layers.length === 0) {
    const from = flags.configPath !== undefined ? '--config' : 'AGENT_CONFIG';
    layers.push({ values: {}, origins: {}, problems: [`config file ${path} (from ${from}) does not exist`] });
  }
  layers.push(envLayer(input.env), flags);
  const merged = mergeLayers(layers);
  const parsed = configSchema.safeParse(merged.values);
  const problems = [...merged.problems];
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => describe(issue, merged)));
  const caFile = parsed.success ? parsed.data.caFile : caFileOf(merged.values.caFile);
  let resolvedCa: string | undefined;
  if (caFile !== undefined) {
    // A path in config.jsonc is relative to that file (the client package ships them side by side).
    resolvedCa = resolve(merged.origins.caFile === path ? dirname(path) : process.cwd(), caFile);
    const problem = checkCaFile(resolvedCa, readFile);
    if (problem) problems.push(`${FIELDS.caFile.file} (from ${merged.origins.caFile}) ${problem}`);
  }
  const proxyEnv = proxyEnvOf(input.env);
  // The environment's proxies matter only without proxy_url; then a bad one is said, not skipped.
  for (const [name, value] of Object.entries(merged.values.proxyUrl === undefined ? proxyEnv : {})) {
    const problem = name.toLowerCase() === 'no_proxy' ? undefined : parseProxyUrl(value);
    if (problem && 'problem' in problem) problems.push(`${name} (from the environment) ${problem.problem}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError('agent', problems);
  const config: AgentConfig = { ...parsed.data };
  if (Object.keys(proxyEnv).length > 0) config.proxyEnv = proxyEnv;
  if (resolvedCa !== undefined) config.caFile = resolvedCa;
  return { config, explicit: new Set(Object.keys(merged.origins) as FieldName[]) };
}

/** The CA path among values that failed validation elsewhere, so its problem is listed too. */
function caFileOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Why the CA file cannot be used, or undefined when it holds at least one PEM certificate. */
function checkCaFile(file: string, readFile: (path: string) => string | undefined): string | undefined {
  let pem: string | undefined;
  try {
    pem = readFile(file);
  } catch (error) {
    return `cannot be read: ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  if (pem === undefined) return `names a file that does not exist: ${file}`;
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
    new X509Certificate(pem);
  } catch {
    return `must be a PEM file of CA certificates (-----BEGIN CERTIFICATE-----): ${file}`;
  }
  return undefined;
}

/** True when the command line asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return flagLayer(argv).help;
}

/**
 * `doctor`: checks, with the agent's own flags and config, everything the agent needs — Node.js,
 * the config, each relay (reachable, TLS certificate, token) and the bridge (running, able to
 * serve) — and prints one line per check with the fix in plain words.
 * Exit code: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 when the config
 * cannot be used (nothing else is checked then).
 */
import { existsSync } from 'node:fs';
import { ConfigError, configFilePath, loadConfig } from '../config/load-config.js';
import { PLAIN_TRANSPORT_FIX, plainRelayUrls, plainTransportWarning } from '../config/plain-transport.js';
import { proxyFor } from '../config/proxy-url.js';
import type { AgentConfig } from '../config/schema.js';
import { checkBridge } from '../doctor/bridge-check.js';
import { probeServing, type ServeProbe } from '../doctor/bridge-serve-probe.js';
import { type CheckLine, fail, formatLine, ok } from '../doctor/check-line.js';
import { checkDialect } from '../doctor/dialect-check.js';
import { checkRelay } from '../doctor/relay-check.js';
import { writeSupportBundle } from '../doctor/support-bundle.js';
import { checkUserscriptHistory } from '../doctor/userscript-history.js';
import { MIN_NODE_VERSION, nodeIsSupported } from '../node-version.js';
import { logFileLine } from '../service/log-file.js';
import { type CommandContext, EXIT } from './context.js';
import { splitOwnFlags } from './own-flags.js';

export type DoctorOptions = {
  /** Tells whether the bridge can serve; the default sends it a chat probe. */
  serveProbe?: ServeProbe;
  /** Per relay, in ms (default 10 000). */
  relayTimeoutMs?: number;
  /** Per bridge request, in ms (default 5 000). */
  bridgeTimeoutMs?: number;
};

export function nodeLine(version: string): CheckLine {
  return nodeIsSupported(version)
    ? ok('node', `v${version} (needs ${MIN_NODE_VERSION} or newer)`)
    : fail(
        'node',
        `v${version} is too old (needs ${MIN_NODE_VERSION} or newer)`,
        'install the current Node.js LTS from https://nodejs.org',
      );
}

/** The proxy line when no relay is dialled through one: none set, or every relay exempt. */
function directLine(config: AgentConfig): CheckLine {
  const set =
    config.proxyUrl !== undefined ||
    Object.keys(config.proxyEnv ?? {}).some((name) => !/^no_proxy$/i.test(name));
  return ok(
    'proxy',
    set
      ? 'none used: every relay is on this machine (loopback) or exempted by NO_PROXY'
      : 'none: relays are dialled directly (set proxy_url or HTTPS_PROXY if this network needs a proxy)',
  );
}

/** Every check after the config, in order; stops at nothing. */
export async function checkAll(config: AgentConfig, options: DoctorOptions = {}): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const plain = new Set(plainRelayUrls(config.relayUrls));
  const proxies = config.relayUrls.map((url) => proxyFor(url, config.proxyUrl, config.proxyEnv));
  if (proxies.every((proxy) => proxy === undefined)) lines.push(directLine(config));
  for (const [i, url] of config.relayUrls.entries()) {
    // A relay that answers well over plain ws:// still fails: the token crosses the network in clear.
    if (plain.has(url)) lines.push(fail('relay transport', plainTransportWarning(url), PLAIN_TRANSPORT_FIX));
    lines.push(
      ...(await checkRelay({
        url,
        token: config.token,
        caFile: config.caFile,
        proxy: proxies[i],
        timeoutMs: options.relayTimeoutMs,
      })),
    );
  }
  const timeoutMs = options.bridgeTimeoutMs ?? 5_000;
  const { dialect, lines: dialectLines } = await checkDialect(config, timeoutMs);
  lines.push(...dialectLines);
  const bridge = { baseUrl: config.upstreamUrl, apiKey: config.upstreamApiKey, timeoutMs, dialect };
  const models = await checkBridge(bridge);
  lines.push(models.line);
  // Only v2.7.6 can be asked whether it could serve without sending LMArena anything.
  if (models.reachable && dialect.serveProbe) {
    lines.push(await (options.serveProbe ?? probeServing)(bridge));
    const history = await checkUserscriptHistory(config.statusPort, timeoutMs);
    if (history) lines.push(history);
  }
  return lines;
}

/** What one doctor run found: its lines, the config's problems, the config when usable, the exit code. */
type DoctorReport = {
  lines: CheckLine[];
  problems: string[];
  config: AgentConfig | undefined;
  configPath: string;
  exit: number;
};

/** Runs every check, printing each line as it comes. */
async function report(ctx: CommandContext, options: DoctorOptions): Promise<DoctorReport> {
  const printed: CheckLine[] = [];
  const print = (line: CheckLine) => {
    printed.push(line);
    ctx.out(formatLine(line));
  };
  const node = nodeLine(ctx.nodeVersion);
  print(node);
  const path = configFilePath(ctx.argv, ctx.env, ctx.cwd);
  const result = { lines: printed, problems: [] as string[], config: undefined, configPath: path };
  let config: AgentConfig;
  try {
    config = loadConfig({ argv: ctx.argv, env: ctx.env, cwd: ctx.cwd });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    print(
      fail(
        'config',
        `cannot be used (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'})`,
        'fix each one below, then run doctor again',
      ),
    );
    for (const problem of error.problems) ctx.out(`        - ${problem}`);
    return { ...result, problems: [...error.problems], exit: EXIT.unusable };
  }
  print(ok('config', existsSync(path) ? path : 'no config file; settings from the environment and flags'));
  print(logFileLine(config, existsSync(path) ? path : undefined));
  const lines = await checkAll(config, options);
  for (const line of lines) print(line);
  const failed = node.status === 'fail' || lines.some((line) => line.status === 'fail');
  return { ...result, config, exit: failed ? EXIT.failed : EXIT.ok };
}

/** `doctor [--bundle] [agent options]`: the checks; with `--bundle`, also the support zip in the current folder. */
export async function runDoctor(ctx: CommandContext, options: DoctorOptions = {}): Promise<number> {
  const split = splitOwnFlags(ctx.argv, { '--bundle': 'switch' });
  if (split.problems.length > 0) {
    for (const problem of split.problems) ctx.err(problem);
    return EXIT.unusable;
  }
  const found = await report({ ...ctx, argv: split.rest }, options);
  if (split.own['--bundle'] !== true) return found.exit;
  try {
    const file = await writeSupportBundle(ctx.cwd, { ...found, ...ctx, now: new Date() });
    ctx.out(`bundle: ${file} -> send this file to the relay's operator (secrets are removed)`);
  } catch (error) {
    ctx.err(
      `cannot write the bundle in ${ctx.cwd}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
    return Math.max(found.exit, EXIT.failed);
  }
  return found.exit;
}

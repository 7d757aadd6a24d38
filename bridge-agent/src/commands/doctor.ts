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
import { checkRelay } from '../doctor/relay-check.js';
import { MIN_NODE_VERSION, nodeIsSupported } from '../node-version.js';
import { type CommandContext, EXIT } from './context.js';

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
  const bridge = {
    baseUrl: config.upstreamUrl,
    apiKey: config.upstreamApiKey,
    timeoutMs: options.bridgeTimeoutMs ?? 5_000,
  };
  const models = await checkBridge(bridge);
  lines.push(models.line);
  if (models.reachable) lines.push(await (options.serveProbe ?? probeServing)(bridge));
  return lines;
}

export async function runDoctor(ctx: CommandContext, options: DoctorOptions = {}): Promise<number> {
  const print = (line: CheckLine) => ctx.out(formatLine(line));
  const node = nodeLine(ctx.nodeVersion);
  print(node);
  const path = configFilePath(ctx.argv, ctx.env, ctx.cwd);
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
    return EXIT.unusable;
  }
  print(ok('config', existsSync(path) ? path : 'no config file; settings from the environment and flags'));
  const lines = await checkAll(config, options);
  for (const line of lines) print(line);
  return node.status === 'fail' || lines.some((line) => line.status === 'fail') ? EXIT.failed : EXIT.ok;
}

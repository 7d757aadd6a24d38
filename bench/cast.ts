/**
 * One scenario's cast: a fake bridge, a relay with its agents, and the baselines in front of the
 * same bridge (direct, nginx, ssh -R), as a list of paths the load generator can aim at.
 */
import { startNginx } from './baselines/nginx.js';
import { startSshTunnel } from './baselines/ssh-tunnel.js';
import type { Baseline, Skipped } from './baselines/tools.js';
import type { CpuGroups } from './proc-stats.js';
import {
  type Inspectable,
  liveAgents,
  type Proc,
  provision,
  startAgentProcess,
  startFakeBridge,
  startRelayProcess,
} from './processes.js';
import { until } from './stats.js';

/** A way from the load generator to the bridge. */
export type Path = {
  name: 'direct' | 'nginx' | 'ssh -R' | 'relay+agent' | 'cross-relay';
  url: string;
  apiKey?: string;
  /** Processes whose CPU this path costs: client, bridge, and the hops in between. */
  cpu(): CpuGroups;
};

export type CastOptions = {
  /** Names the profiles of this cast's relay and agents. */
  scenario: string;
  /** Fake bridge flags, e.g. `['--chunks', '21']`. */
  bridgeArgs: string[];
  /** The bridge to start instead of the fake bridge (e.g. the paced stub); `bridgeArgs` unused. */
  bridge?: () => Promise<Proc & { url: string }>;
  relayEnv?: Record<string, string>;
  /** Agent processes (default 1) and each one's max_concurrency (default 64). */
  agents?: number;
  maxConcurrency?: number;
  /** Which baselines to start besides direct (default both). */
  baselines?: { nginx: boolean; ssh: boolean };
};

export type Cast = {
  bridge: Proc & { url: string };
  /** Relay and agents run with an inspector (bench/inspector.ts), idle unless a window asks. */
  relay: Proc & Inspectable & { url: string };
  agents: Array<Proc & Inspectable>;
  key: string;
  token: string;
  paths: Path[];
  /** Baselines that could not run, as `skipped: <reason>` texts. */
  skipped: string[];
  stop(): Promise<void>;
};

/** Starts everything, or stops what it started and throws. */
export async function startCast(options: CastOptions): Promise<Cast> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  try {
    const bridge = await (options.bridge ?? (() => startFakeBridge(options.bridgeArgs)))();
    stops.push(bridge.stop);
    const relay = await startRelayProcess(options.relayEnv, `${options.scenario}/relay`, { inspect: true });
    stops.push(relay.stop);
    const { token, key } = await provision(relay.url);
    const agents: Cast['agents'] = [];
    const count = options.agents ?? 1;
    // Started together: each takes seconds to load on a busy box, and they do not depend on each other.
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        startAgentProcess(
          relay.url,
          token,
          bridge.url,
          options.maxConcurrency ?? 64,
          `${options.scenario}/agent-${i + 1}`,
          { inspect: true },
        ),
      ),
    );
    for (const outcome of started) {
      if (outcome.status === 'fulfilled') {
        stops.push(outcome.value.stop);
        agents.push(outcome.value);
      }
    }
    const failed = started.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (!(await until(async () => (await liveAgents(relay.url)) >= count, 15_000))) {
      throw new Error(`only ${await liveAgents(relay.url)} of ${count} agents reached the relay`);
    }
    const client = [process.pid];
    const paths: Path[] = [
      { name: 'direct', url: bridge.url, cpu: () => ({ client, bridge: [bridge.pid] }) },
    ];
    const wanted = options.baselines ?? { nginx: true, ssh: true };
    const baselines: Array<Promise<Baseline | Skipped> | undefined> = [
      wanted.nginx ? startNginx(bridge.url) : undefined,
      wanted.ssh ? startSshTunnel(bridge.url) : undefined,
    ];
    const skipped: string[] = [];
    for (const pending of baselines) {
      const baseline = await pending;
      if (!baseline) continue;
      if ('skipped' in baseline) {
        skipped.push(`skipped: ${baseline.skipped}`);
        continue;
      }
      stops.push(baseline.stop);
      paths.push({
        name: baseline.name as Path['name'],
        url: baseline.url,
        cpu: () => {
          const exit = baseline.exit();
          return { client, bridge: [bridge.pid], entry: baseline.entry(), ...(exit.length ? { exit } : {}) };
        },
      });
    }
    paths.push({
      name: 'relay+agent',
      url: relay.url,
      apiKey: key,
      cpu: () => ({ client, bridge: [bridge.pid], entry: [relay.pid], exit: agents.map((a) => a.pid) }),
    });
    return { bridge, relay, agents, key, token, paths, skipped, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

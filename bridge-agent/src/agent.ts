/**
 * `startAgent`: wires the pieces. The bridge is probed first so `hello` carries its models and
 * readiness; then the status server starts and the links dial out. Every relay frame goes through
 * the one frame dispatcher (the routes below, one per kind); what the agent tells its relays is
 * the announcer's (tunnel/announcer.ts), what the owner sees the status assembly's
 * (status/agent-status.ts). What an embedder sees (options, events, the handle) is agent-api.ts.
 */
import { EventEmitter } from 'node:events';
import type { Agent, AgentEvents, AgentOptions, CloseOptions } from './agent-api.js';
import { PLAIN_TRANSPORT_FIX, plainRelayUrls, plainTransportWarning } from './config/plain-transport.js';
import { proxyFor } from './config/proxy-url.js';
import { AgentSettings } from './config/pushed-settings.js';
import type { AgentConfig, FieldName } from './config/schema.js';
import { createLogger, type Logger } from './logging.js';
import { DesktopNotifier } from './notify/desktop-notifier.js';
import { platformStatus, StatusPort } from './status/agent-status.js';
import { ServedTally } from './status/served-tally.js';
import type { AgentStats, PlatformStatus } from './status/status-server.js';
import { Announcer } from './tunnel/announcer.js';
import { frameDispatcher } from './tunnel/frame-dispatcher.js';
import { frameRoutes } from './tunnel/frame-routes.js';
import { LinkPool } from './tunnel/link-pool.js';
import type { FatalLinkError } from './tunnel/relay-refusal.js';
import { requestModel } from './tunnel/request-log.js';
import { SlotShares } from './tunnel/slot-shares.js';
import { StreamHub } from './tunnel/stream-hub.js';
import { BridgeSide, detectAtStart } from './upstream/bridge-side.js';
import type { Detection } from './upstream/detect.js';
import { AGENT_VERSION } from './version.js';

export type { Agent, AgentEvents, AgentOptions, CloseOptions } from './agent-api.js';

class RunningAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly #log: Logger;
  readonly #hub: StreamHub;
  /** What the bridge served, for the owner's status page. */
  readonly #served = new ServedTally();
  readonly #pool: LinkPool;
  readonly #shares: SlotShares;
  readonly #announcer: Announcer;
  readonly #statusPort: StatusPort | undefined;
  readonly #startedAt = new Date().toISOString();
  #closing: Promise<void> | undefined;
  readonly #settings: AgentSettings;
  readonly #side: BridgeSide<AgentConfig>;
  readonly #notifier: DesktopNotifier | undefined;
  readonly #logFile: string | undefined;

  constructor(configured: AgentConfig, options: AgentOptions, detection?: Detection) {
    super();
    // Without a list, everything configured counts as the owner's (embedding, tests).
    const explicit = options.explicit ?? new Set<FieldName>(['maxConcurrency', 'logLevel']);
    this.#log = options.logger ?? createLogger({ level: configured.logLevel });
    this.#side = new BridgeSide(configured, explicit.has('maxConcurrency'), options, this.#log, detection);
    const { config, bridge, readiness } = this.#side;
    this.#logFile = options.logFile;
    if (config.desktopNotifications) {
      this.#notifier = new DesktopNotifier({
        platform: options.notify?.platform ?? process.platform,
        logger: this.#log,
        spawn: options.notify?.spawn,
        minIntervalMs: options.notify?.minIntervalMs,
      });
    }
    this.#settings = new AgentSettings(config, explicit);
    this.#shares = new SlotShares(config.maxConcurrency);
    this.#announcer = new Announcer({
      config,
      readiness,
      bridge,
      settings: this.#settings,
      shares: this.#shares,
      agentVersion: AGENT_VERSION,
      autoUpdate: options.autoUpdate,
    });
    this.#hub = new StreamHub({
      bridge,
      readiness,
      maxConcurrency: config.maxConcurrency,
      admission: this.#shares,
      logger: this.#log,
      requestLogging: config.enableRequestLogging,
      onFinished: (_link, outcome, open) => {
        this.#served.record(outcome, requestModel(open));
        this.#announcer.rebalance();
      },
    });
    const routes = frameRoutes({
      hub: this.#hub,
      shares: this.#shares,
      pool: () => this.#pool,
      announcer: this.#announcer,
      settings: this.#settings,
      logger: this.#log,
      update: (offer, connectUrl, report) => this.emit('update', offer, connectUrl, report),
    });
    this.#pool = new LinkPool({
      connections: config.connections,
      urls: config.relayUrls,
      token: config.token,
      caFile: config.caFile,
      proxyFor: (url) => proxyFor(url, config.proxyUrl, config.proxyEnv),
      hello: (link) => this.#announcer.hello(link),
      dispatch: frameDispatcher(routes, this.#log),
      logger: this.#log,
      welcomeTimeoutMs: options.welcomeTimeoutMs,
      backoff: options.backoff,
    });
    if (config.statusPort >= 0)
      this.#statusPort = new StatusPort(config.statusPort, this, options.statusPortRetryMs);
    this.#wire();
  }

  get statusUrl(): string | undefined {
    return this.#statusPort?.url;
  }

  async start(): Promise<void> {
    await this.#side.readiness.start();
    this.#log.info(
      {
        upstream: this.#side.config.upstreamUrl,
        bridge: this.#side.bridge.dialect.name,
        detected: this.#side.detection?.evidence ?? null,
        ready: this.#side.readiness.ready,
        reason: this.#side.readiness.reason,
      },
      'bridge probed',
    );
    try {
      await this.#statusPort?.open();
    } catch (error) {
      await this.close();
      throw error;
    }
    // At every start, whatever was said before: the owner may never have run doctor.
    for (const url of plainRelayUrls(this.#side.config.relayUrls)) {
      this.#log.warn({ relay: url, fix: PLAIN_TRANSPORT_FIX }, plainTransportWarning(url));
    }
    for (const url of this.#side.config.relayUrls) {
      // Only the masked address: the proxy URL may carry a password.
      const proxy = proxyFor(url, this.#side.config.proxyUrl, this.#side.config.proxyEnv);
      if (proxy)
        this.#log.info(
          { relay: url, proxy: proxy.shown, from: proxy.source },
          'dialling the relay through a proxy',
        );
    }
    this.#pool.start();
  }

  async releaseStatusPort(): Promise<void> {
    await this.#statusPort?.release();
  }

  status(): PlatformStatus {
    const parts = {
      side: this.#side,
      pool: this.#pool,
      shares: this.#shares,
      hub: this.#hub,
      served: this.#served,
    };
    return platformStatus({ ...parts, settings: this.#settings, logFile: this.#logFile });
  }

  stats(): AgentStats {
    return { ...this.#hub.stats(), started_at: this.#startedAt };
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.drainMs ?? 0);
    return this.#closing;
  }

  async #shutdown(drainMs: number): Promise<void> {
    this.#statusPort?.stop();
    this.#hub.stopAccepting();
    // Tell the relay at once so it routes new work elsewhere while in-flight streams finish.
    this.#announcer.shuttingDown();
    if (drainMs > 0 && this.#hub.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#hub.idle(),
        new Promise((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    this.#side.readiness.stop();
    this.#hub.abortAll();
    await this.#pool.close();
    await this.releaseStatusPort();
    await this.#side.bridge.close();
  }

  #wire(): void {
    this.#side.readiness.on('models', () => this.#announcer.models());
    this.#side.readiness.on('ready', (ready, reason) => {
      this.#log.info({ ready, reason }, ready ? 'bridge ready' : 'bridge not ready');
      this.#notifier?.update(ready, this.#side.readiness.code);
      this.#announcer.ready();
    });
    this.#pool.on('connected', (link, welcome, channel) => {
      this.#hub.attach(link, channel, welcome);
      this.#announcer.welcomed(link, channel, welcome);
      this.emit('connected', welcome.sessionId);
    });
    this.#pool.on('disconnected', (link, reason) => {
      this.#announcer.disconnected(link);
      this.#hub.detach(link);
      this.emit('disconnected', reason);
    });
    this.#pool.on('closed', (link) => this.#announcer.closed(link));
    this.#pool.on('fatal', (error: FatalLinkError) => this.emit('fatal', error));
  }
}

/**
 * Starts an agent: probes the bridge, starts the status server (unless `statusPort` is -1) and
 * dials the relay. Resolves once running; connection progress comes as events.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  // `bridge: auto` asks before anything is built: the dialect sets the concurrency default.
  const detection = await detectAtStart(config, options.probeTimeoutMs);
  const agent = new RunningAgent(config, options, detection);
  await agent.start();
  return agent;
}

/**
 * `startAgent`: wires the pieces. The bridge is probed first so `hello` carries its models and
 * readiness; then the status server starts and the relay link dials out. Frames from the relay go
 * to the stream hub; readiness changes go back to the relay as `models` / `ready` frames.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type AgentFrame,
  type BackoffOptions,
  BRIDGE_REASON_FIXES,
  type BridgeReasonCode,
  type HelloFrame,
  PROTOCOL_VERSION,
  type ReadyFrame,
  type RelayFrame,
  type SettingsFrame,
  truncateChars,
  type UpdateFrame,
} from '@arena-relay/shared';
import { PLAIN_TRANSPORT_FIX, plainRelayUrls, plainTransportWarning } from './config/plain-transport.js';
import { proxyFor } from './config/proxy-url.js';
import { AgentSettings } from './config/pushed-settings.js';
import type { AgentConfig, FieldName } from './config/schema.js';
import { createLogger, type Logger } from './logging.js';
import { DesktopNotifier, type Spawner } from './notify/desktop-notifier.js';
import {
  type AgentStats,
  type PlatformStatus,
  type StatusServer,
  startStatusServer,
} from './status/status-server.js';
import { LinkPool } from './tunnel/link-pool.js';
import type { FatalLinkError } from './tunnel/relay-link.js';
import type { SessionChannel } from './tunnel/relay-stream.js';
import { SlotShares } from './tunnel/slot-shares.js';
import { StreamHub } from './tunnel/stream-hub.js';
import { BridgeClient } from './upstream/bridge-client.js';
import { type Detection, detectDialect } from './upstream/detect.js';
import { DIALECTS } from './upstream/dialects/index.js';
import { Readiness } from './upstream/readiness.js';
import { AGENT_VERSION } from './version.js';

export type AgentEvents = {
  /** A session with the relay began (after `welcome`). */
  connected: [sessionId: string];
  /** The session ended; the agent reconnects unless it was closed or hit a fatal error. */
  disconnected: [reason: string];
  /**
   * The relay refused the token or protocol, or its TLS certificate (on every configured
   * address): the agent stopped reconnecting; call `close()`.
   */
  fatal: [error: Error];
  /** A relay offered another agent version (only when `autoUpdate` was announced); `connectUrl` is its address. */
  update: [offer: UpdateFrame, connectUrl: string];
};

/** Knobs for embedding and tests; defaults suit production. */
export type AgentOptions = {
  /** Defaults to a pino root at `config.logLevel`. */
  logger?: Logger;
  /** Interval between bridge readiness probes, in ms (default 30 000). */
  probeIntervalMs?: number;
  /** First retry delay of the readiness probe while the bridge is not ready, in ms (default 1 000; doubles). */
  probeRetryBaseMs?: number;
  /**
   * How long a reason the probe cannot see (session expired, reCAPTCHA, a 429 without retry-after)
   * keeps the bridge out, per reason code, in ms (defaults in upstream/readiness.ts HOLD_MS).
   */
  reasonHoldMs?: Partial<Record<BridgeReasonCode, number>>;
  /** Timeout of one readiness probe, in ms (default 5 000). */
  probeTimeoutMs?: number;
  /** Headers/body idle timeout of bridge requests, in ms (default 420 000). */
  upstreamTimeoutMs?: number;
  /** How long the relay may take to answer `hello`, in ms (default 10 000). */
  welcomeTimeoutMs?: number;
  /** Reconnect backoff (default 0.5 s → 30 s cap, full jitter). */
  backoff?: BackoffOptions;
  /** Settings the owner set explicitly (config file, environment, flags): they win over pushed ones. */
  explicit?: ReadonlySet<FieldName>;
  /** Tell relays this agent takes `update` offers (cli.ts: when running as the bundle with auto_update). */
  autoUpdate?: boolean;
  /**
   * A busy status port is retried this often (ms) in the background instead of failing the start:
   * for a process started by a self-update, whose predecessor still holds the port for a moment.
   */
  statusPortRetryMs?: number;
  /** The log file this run writes (service/run-log.ts), shown on the status page. */
  logFile?: string | undefined;
  /** Desktop notifications (with `desktopNotifications` on): the platform (default this one) and the program starter. */
  notify?: { platform?: NodeJS.Platform; spawn?: Spawner; minIntervalMs?: number };
};

export type CloseOptions = {
  /** Let in-flight streams finish for up to this long (ms) before aborting them (default 0). */
  drainMs?: number;
};

/** A running agent. */
export interface Agent extends EventEmitter<AgentEvents> {
  /** `http://127.0.0.1:<port>` of the status server, or undefined when it is disabled. */
  readonly statusUrl: string | undefined;
  /** The body of `/platform/status`. */
  status(): PlatformStatus;
  /** The body of `/stats`. */
  stats(): AgentStats;
  /** Stops reconnecting, aborts in-flight requests, closes the socket (1001) and the status server. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
  /** Closes the status server now (a self-update's successor takes the port while this one drains). */
  releaseStatusPort(): Promise<void>;
}

class RunningAgent extends EventEmitter<AgentEvents> implements Agent {
  statusUrl: string | undefined;
  readonly #config: AgentConfig;
  readonly #log: Logger;
  readonly #bridge: BridgeClient;
  readonly #readiness: Readiness;
  readonly #hub: StreamHub;
  readonly #pool: LinkPool;
  readonly #shares: SlotShares;
  readonly #startedAt = new Date().toISOString();
  /** Kept across reconnects: the relay moves new streams off an older session of this instance. */
  readonly #instanceId = randomUUID();
  #statusServer: StatusServer | undefined;
  /** Welcomed sockets, by link id. */
  readonly #channels = new Map<number, SessionChannel>();
  /** What each link's last `hello` told its relay, to catch changes made before `welcome` came. */
  readonly #announced = new Map<number, { models: string[]; ready: boolean }>();
  #closing: Promise<void> | undefined;
  readonly #options: AgentOptions;
  readonly #settings: AgentSettings;
  #statusRetry: NodeJS.Timeout | undefined;
  /** What `bridge: auto` found last (undefined: set by the owner, or nothing answered yet). */
  #detection: Detection | undefined;
  readonly #notifier: DesktopNotifier | undefined;

  constructor(configured: AgentConfig, options: AgentOptions, detection?: Detection) {
    super();
    // Without a list, everything configured counts as the owner's (embedding, tests).
    const explicit = options.explicit ?? new Set<FieldName>(['maxConcurrency', 'logLevel']);
    const dialect =
      configured.bridge === 'auto'
        ? (detection?.dialect ?? DIALECTS['lmarenabridge-v2'])
        : (DIALECTS[configured.bridge] ?? DIALECTS['lmarenabridge-v2']);
    // A bridge with one browser serves one request at a time unless its owner says otherwise.
    const config = explicit.has('maxConcurrency')
      ? configured
      : { ...configured, maxConcurrency: dialect.concurrency };
    this.#config = config;
    this.#options = options;
    this.#detection = detection;
    this.#settings = new AgentSettings(config, explicit);
    this.#log = options.logger ?? createLogger({ level: config.logLevel });
    if (config.desktopNotifications) {
      this.#notifier = new DesktopNotifier({
        platform: options.notify?.platform ?? process.platform,
        logger: this.#log,
        spawn: options.notify?.spawn,
        minIntervalMs: options.notify?.minIntervalMs,
      });
    }
    this.#bridge = new BridgeClient({
      baseUrl: config.upstreamUrl,
      apiKey: config.upstreamApiKey,
      connections: config.maxConcurrency + 1,
      timeoutMs: options.upstreamTimeoutMs,
      probeTimeoutMs: options.probeTimeoutMs,
      dialect,
    });
    this.#readiness = new Readiness(this.#bridge, {
      intervalMs: options.probeIntervalMs,
      retryBaseMs: options.probeRetryBaseMs,
      holdMs: options.reasonHoldMs,
      // Detected once already (startAgent) when it answered: again only after it was unreachable.
      ...(config.bridge === 'auto' ? { detect: () => this.#redetect() } : {}),
    });
    if (detection) this.#readiness.skipDetection();
    this.#shares = new SlotShares(config.maxConcurrency);
    this.#hub = new StreamHub({
      bridge: this.#bridge,
      readiness: this.#readiness,
      maxConcurrency: config.maxConcurrency,
      admission: this.#shares,
      logger: this.#log,
      requestLogging: config.enableRequestLogging,
      onFinished: () => this.#rebalance(),
    });
    this.#pool = new LinkPool({
      connections: config.connections,
      urls: config.relayUrls,
      token: config.token,
      caFile: config.caFile,
      proxyFor: (url) => proxyFor(url, config.proxyUrl, config.proxyEnv),
      hello: (link) => this.#hello(link),
      logger: this.#log,
      welcomeTimeoutMs: options.welcomeTimeoutMs,
      backoff: options.backoff,
    });
    this.#wire();
  }

  async start(): Promise<void> {
    await this.#readiness.start();
    this.#log.info(
      {
        upstream: this.#config.upstreamUrl,
        bridge: this.#bridge.dialect.name,
        detected: this.#detection?.evidence ?? null,
        ready: this.#readiness.ready,
        reason: this.#readiness.reason,
      },
      'bridge probed',
    );
    if (this.#config.statusPort >= 0) {
      try {
        await this.#startStatusServer();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' && this.#options.statusPortRetryMs !== undefined) {
          this.#retryStatusServer(this.#options.statusPortRetryMs);
        } else {
          await this.close();
          const reason = code ?? (error as Error).message;
          throw new Error(
            `cannot start the status server on 127.0.0.1:${this.#config.statusPort}: ${reason}`,
          );
        }
      }
    }
    // At every start, whatever was said before: the owner may never have run doctor.
    for (const url of plainRelayUrls(this.#config.relayUrls)) {
      this.#log.warn({ relay: url, fix: PLAIN_TRANSPORT_FIX }, plainTransportWarning(url));
    }
    for (const url of this.#config.relayUrls) {
      // Only the masked address: the proxy URL may carry a password.
      const proxy = proxyFor(url, this.#config.proxyUrl, this.#config.proxyEnv);
      if (proxy)
        this.#log.info(
          { relay: url, proxy: proxy.shown, from: proxy.source },
          'dialling the relay through a proxy',
        );
    }
    this.#pool.start();
  }

  /** `bridge: auto` again (the bridge was unreachable): true when anything answered. */
  async #redetect(): Promise<boolean> {
    const found = await detectDialect(this.#bridge);
    if (!found) return false;
    if (found.dialect !== this.#bridge.dialect) {
      // Relays learn the new dialect with the next hello (reconnect); streams already open keep theirs.
      this.#log.warn(
        { from: this.#bridge.dialect.name, to: found.dialect.name, evidence: found.evidence },
        'another bridge answers now',
      );
    }
    this.#bridge.dialect = found.dialect;
    this.#detection = found;
    return true;
  }

  async #startStatusServer(): Promise<void> {
    this.#statusServer = await startStatusServer(this.#config.statusPort, this);
    this.statusUrl = this.#statusServer.url;
  }

  #retryStatusServer(everyMs: number): void {
    this.#statusRetry = setTimeout(() => {
      if (this.#closing) return;
      this.#startStatusServer().catch(() => this.#retryStatusServer(everyMs));
    }, everyMs);
    this.#statusRetry.unref();
  }

  async releaseStatusPort(): Promise<void> {
    const server = this.#statusServer;
    this.#statusServer = undefined;
    this.statusUrl = undefined;
    await server?.close();
  }

  status(): PlatformStatus {
    const connections = this.#pool.status().map((link) => ({
      ...link,
      slots: this.#shares.granted(link.link),
      in_flight: this.#hub.inFlightOn(link.link),
    }));
    // The top-level fields describe the first live connection (or the first one), as before.
    const main = connections.find((link) => link.connected) ?? connections[0];
    return {
      connected: main?.connected ?? false,
      relay_url: main?.relay_url ?? this.#config.relayUrls[0]!,
      client_id: this.#config.clientId ?? null,
      session_id: main?.session_id ?? null,
      last_heartbeat: main?.last_heartbeat ?? null,
      reconnects: connections.reduce((sum, link) => sum + link.reconnects, 0),
      ready: this.#readiness.ready,
      ready_reason: this.#readiness.reason ?? null,
      ready_code: this.#readiness.code ?? null,
      ready_fix: this.#readiness.code ? BRIDGE_REASON_FIXES[this.#readiness.code] : null,
      retry_at:
        this.#readiness.holdUntil > Date.now() ? new Date(this.#readiness.holdUntil).toISOString() : null,
      max_concurrency: this.#settings.maxConcurrency,
      bridge: this.#bridge.dialect.name,
      bridge_setting: this.#config.bridge,
      bridge_evidence: this.#detection?.evidence ?? null,
      prompt_limit_chars: this.#bridge.dialect.promptLimitChars ?? null,
      settings: this.#settings.sources(),
      connections,
      // Only when there is one: a run in a terminal shows the same body as before.
      ...(this.#options.logFile === undefined ? {} : { log_file: this.#options.logFile }),
    };
  }

  stats(): AgentStats {
    return { ...this.#hub.stats(), started_at: this.#startedAt };
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.drainMs ?? 0);
    return this.#closing;
  }

  async #shutdown(drainMs: number): Promise<void> {
    this.#hub.stopAccepting();
    // Tell the relay at once so it routes new work elsewhere while in-flight streams finish.
    this.#send({ type: 'ready', ready: false, reason: 'agent shutting down', code: 'agent_shutting_down' });
    if (drainMs > 0 && this.#hub.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#hub.idle(),
        new Promise((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    this.#readiness.stop();
    this.#hub.abortAll();
    clearTimeout(this.#statusRetry);
    await this.#pool.close();
    await this.releaseStatusPort();
    await this.#bridge.close();
  }

  #hello(link: number): HelloFrame {
    const { ready, reason } = this.#readiness;
    const models = this.#offered();
    const hello: HelloFrame = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      agentVersion: AGENT_VERSION,
      instanceId: this.#instanceId,
      capabilities: this.#config.capabilities,
      models,
      maxConcurrency: this.#settings.maxConcurrency,
      ready,
      slots: this.#shares.join(link),
      pushedSettings: true,
      dialect: this.#bridge.dialect.name,
    };
    const limit = this.#bridge.dialect.promptLimitChars;
    if (limit !== undefined) hello.promptLimitChars = limit;
    if (this.#options.autoUpdate) hello.autoUpdate = true;
    this.#announced.set(link, { models, ready });
    if (this.#config.clientId) hello.clientId = this.#config.clientId;
    if (!ready && reason) hello.readyReason = truncateChars(reason, 512);
    return hello;
  }

  /** Sends a frame on every welcomed socket. */
  #send(frame: AgentFrame): void {
    for (const channel of this.#channels.values()) channel.sendControl(frame);
  }

  #readyFrame(): AgentFrame {
    const { ready, reason, code, holdUntil } = this.#readiness;
    const frame: ReadyFrame = { type: 'ready', ready, dialect: this.#bridge.dialect.name };
    const limit = this.#bridge.dialect.promptLimitChars;
    if (limit !== undefined) frame.promptLimitChars = limit;
    if (reason) frame.reason = truncateChars(reason, 512);
    if (!ready && code) frame.code = code;
    const wait = holdUntil - Date.now();
    if (!ready && wait > 0) frame.retryAfterMs = Math.min(Math.round(wait), 86_400_000);
    return frame;
  }

  /** Sends every socket the share of max_concurrency it should hold now. */
  #rebalance(): void {
    for (const { link, seq, slots } of this.#shares.rebalance()) {
      this.#channels.get(link)?.sendControl({ type: 'capacity', seq, slots });
    }
  }

  /** The bridge's models as this agent offers them (pushed settings may narrow them). */
  #offered(): string[] {
    return this.#settings.offered(this.#readiness.models);
  }

  #applySettings(frame: SettingsFrame): void {
    const change = this.#settings.apply(frame);
    if (change.logLevel !== undefined) this.#log.level = change.logLevel;
    if (change.models) this.#send({ type: 'models', models: this.#offered() });
    if (change.maxConcurrency !== undefined) {
      this.#shares.setTotal(change.maxConcurrency);
      this.#rebalance();
    }
    if (Object.keys(change).length > 0) this.#log.info({ ...change }, 'relay settings applied');
  }

  #onFrame(link: number, frame: RelayFrame): void {
    if (frame.type === 'settings') return this.#applySettings(frame);
    if (frame.type === 'update') {
      const url = this.#pool.status().find((l) => l.link === link)?.relay_url;
      if (url) this.emit('update', frame, url);
      return;
    }
    if (frame.type === 'capacity') {
      this.#shares.acked(link, frame.seq);
      return this.#rebalance();
    }
    this.#hub.handle(link, frame);
    if (frame.type === 'goaway') {
      this.#shares.retire(link);
      this.#pool.goAway(link, frame.graceMs);
      this.#rebalance();
    }
  }

  #wire(): void {
    this.#readiness.on('models', () => this.#send({ type: 'models', models: this.#offered() }));
    this.#readiness.on('ready', (ready, reason) => {
      this.#log.info({ ready, reason }, ready ? 'bridge ready' : 'bridge not ready');
      this.#notifier?.update(ready, this.#readiness.code);
      this.#send(this.#readyFrame());
    });
    this.#pool.on('connected', (link, welcome, channel) => {
      this.#channels.set(link, channel);
      this.#hub.attach(link, channel, welcome);
      this.#shares.welcomed(link);
      // Readiness may have changed while the relay was answering hello.
      const { ready } = this.#readiness;
      const models = this.#offered();
      const announced = this.#announced.get(link);
      if (announced?.models.join() !== models.join()) channel.sendControl({ type: 'models', models });
      // `hello` has no reason code: a bridge that is not ready says why at once.
      if (announced?.ready !== ready || !ready) channel.sendControl(this.#readyFrame());
      this.#rebalance();
      this.emit('connected', welcome.sessionId);
    });
    this.#pool.on('frame', (link, frame) => this.#onFrame(link, frame));
    this.#pool.on('body', (link, stream, payload) => this.#hub.body(link, stream, payload));
    this.#pool.on('disconnected', (link, reason) => {
      this.#channels.delete(link);
      this.#hub.detach(link);
      this.emit('disconnected', reason);
    });
    this.#pool.on('closed', (link) => {
      this.#announced.delete(link);
      this.#shares.leave(link);
      this.#rebalance();
    });
    this.#pool.on('fatal', (error: FatalLinkError) => this.emit('fatal', error));
  }
}

/**
 * Starts an agent: probes the bridge, starts the status server (unless `statusPort` is -1) and
 * dials the relay. Resolves once running; connection progress comes as events.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  // `bridge: auto` asks before anything is built: the dialect sets the concurrency default.
  let detection: Detection | undefined;
  if (config.bridge === 'auto') {
    const probe = new BridgeClient({
      baseUrl: config.upstreamUrl,
      apiKey: config.upstreamApiKey,
      connections: 2,
      probeTimeoutMs: options.probeTimeoutMs,
    });
    detection = await detectDialect(probe);
    await probe.close();
  }
  const agent = new RunningAgent(config, options, detection);
  await agent.start();
  return agent;
}

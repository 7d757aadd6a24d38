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
  type HelloFrame,
  PROTOCOL_VERSION,
  truncateChars,
} from '@arena-relay/shared';
import type { AgentConfig } from './config/schema.js';
import { createLogger, type Logger } from './logging.js';
import {
  type AgentStats,
  type PlatformStatus,
  type StatusServer,
  startStatusServer,
} from './status/status-server.js';
import { type FatalLinkError, RelayLink } from './tunnel/relay-link.js';
import type { SessionChannel } from './tunnel/relay-stream.js';
import { StreamHub } from './tunnel/stream-hub.js';
import { BridgeClient } from './upstream/bridge-client.js';
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
};

/** Knobs for embedding and tests; defaults suit production. */
export type AgentOptions = {
  /** Defaults to a pino root at `config.logLevel`. */
  logger?: Logger;
  /** Interval between bridge readiness probes, in ms (default 30 000). */
  probeIntervalMs?: number;
  /** Timeout of one readiness probe, in ms (default 5 000). */
  probeTimeoutMs?: number;
  /** Headers/body idle timeout of bridge requests, in ms (default 420 000). */
  upstreamTimeoutMs?: number;
  /** How long the relay may take to answer `hello`, in ms (default 10 000). */
  welcomeTimeoutMs?: number;
  /** Reconnect backoff (default 0.5 s → 30 s cap, full jitter). */
  backoff?: BackoffOptions;
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
}

class RunningAgent extends EventEmitter<AgentEvents> implements Agent {
  statusUrl: string | undefined;
  readonly #config: AgentConfig;
  readonly #log: Logger;
  readonly #bridge: BridgeClient;
  readonly #readiness: Readiness;
  readonly #hub: StreamHub;
  readonly #link: RelayLink;
  readonly #startedAt = new Date().toISOString();
  /** Kept across reconnects: the relay replaces a stale session of this same instance at once. */
  readonly #instanceId = randomUUID();
  #statusServer: StatusServer | undefined;
  #channel: SessionChannel | undefined;
  /** What the last `hello` told the relay, to catch changes made before its `welcome` came. */
  #announced: { models: string[]; ready: boolean } | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: AgentConfig, options: AgentOptions) {
    super();
    this.#config = config;
    this.#log = options.logger ?? createLogger({ level: config.logLevel });
    this.#bridge = new BridgeClient({
      baseUrl: config.upstreamUrl,
      apiKey: config.upstreamApiKey,
      connections: config.maxConcurrency + 1,
      timeoutMs: options.upstreamTimeoutMs,
      probeTimeoutMs: options.probeTimeoutMs,
    });
    this.#readiness = new Readiness(this.#bridge, options.probeIntervalMs);
    this.#hub = new StreamHub({
      bridge: this.#bridge,
      readiness: this.#readiness,
      maxConcurrency: config.maxConcurrency,
      logger: this.#log,
      requestLogging: config.enableRequestLogging,
    });
    this.#link = new RelayLink({
      urls: config.relayUrls,
      token: config.token,
      caFile: config.caFile,
      hello: () => this.#hello(),
      logger: this.#log,
      welcomeTimeoutMs: options.welcomeTimeoutMs,
      backoff: options.backoff,
    });
    this.#wire();
  }

  async start(): Promise<void> {
    await this.#readiness.start();
    this.#log.info(
      { upstream: this.#config.upstreamUrl, ready: this.#readiness.ready, reason: this.#readiness.reason },
      'bridge probed',
    );
    if (this.#config.statusPort >= 0) {
      try {
        this.#statusServer = await startStatusServer(this.#config.statusPort, this);
      } catch (error) {
        await this.close();
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new Error(`cannot start the status server on 127.0.0.1:${this.#config.statusPort}: ${reason}`);
      }
      this.statusUrl = this.#statusServer.url;
    }
    this.#link.start();
  }

  status(): PlatformStatus {
    const session = this.#link.session;
    return {
      connected: session !== undefined,
      relay_url: this.#link.url,
      client_id: this.#config.clientId ?? null,
      session_id: session?.sessionId ?? null,
      last_heartbeat: this.#link.lastHeartbeat?.toISOString() ?? null,
      reconnects: this.#link.reconnects,
      ready: this.#readiness.ready,
      ready_reason: this.#readiness.reason ?? null,
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
    this.#send({ type: 'ready', ready: false, reason: 'agent shutting down' });
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
    await this.#link.close();
    await this.#statusServer?.close();
    await this.#bridge.close();
  }

  #hello(): HelloFrame {
    const { ready, reason, models } = this.#readiness;
    const hello: HelloFrame = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      agentVersion: AGENT_VERSION,
      instanceId: this.#instanceId,
      capabilities: this.#config.capabilities,
      models,
      maxConcurrency: this.#config.maxConcurrency,
      ready,
    };
    this.#announced = { models, ready };
    if (this.#config.clientId) hello.clientId = this.#config.clientId;
    if (!ready && reason) hello.readyReason = truncateChars(reason, 512);
    return hello;
  }

  #send(frame: AgentFrame): void {
    this.#channel?.sendControl(frame);
  }

  #sendReady(): void {
    const { ready, reason } = this.#readiness;
    this.#send(
      reason ? { type: 'ready', ready, reason: truncateChars(reason, 512) } : { type: 'ready', ready },
    );
  }

  #wire(): void {
    this.#readiness.on('models', (models) => this.#send({ type: 'models', models }));
    this.#readiness.on('ready', (ready, reason) => {
      this.#log.info({ ready, reason }, ready ? 'bridge ready' : 'bridge not ready');
      this.#sendReady();
    });
    this.#link.on('connected', (welcome, channel) => {
      this.#channel = channel;
      this.#hub.attach(channel, welcome);
      // Readiness may have changed while the relay was answering hello.
      const { models, ready } = this.#readiness;
      if (this.#announced?.models !== models) this.#send({ type: 'models', models });
      if (this.#announced?.ready !== ready) this.#sendReady();
      this.emit('connected', welcome.sessionId);
    });
    this.#link.on('frame', (frame) => this.#hub.handle(frame));
    this.#link.on('disconnected', (reason) => {
      this.#channel = undefined;
      this.#hub.detach();
      this.emit('disconnected', reason);
    });
    this.#link.on('fatal', (error: FatalLinkError) => this.emit('fatal', error));
  }
}

/**
 * Starts an agent: probes the bridge, starts the status server (unless `statusPort` is -1) and
 * dials the relay. Resolves once running; connection progress comes as events.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  const agent = new RunningAgent(config, options);
  await agent.start();
  return agent;
}

/**
 * What the owner sees of a running agent: the body of `/platform/status` (which the status page
 * renders) assembled from the parts that know it, and the status server's port, retried in the
 * background while a self-update's predecessor still holds it.
 */
import { BRIDGE_REASON_WORDS } from '@arena-relay/shared';
import type { AgentSettings } from '../config/pushed-settings.js';
import type { AgentConfig } from '../config/schema.js';
import type { LinkPool } from '../tunnel/link-pool.js';
import type { SlotShares } from '../tunnel/slot-shares.js';
import type { StreamHub } from '../tunnel/stream-hub.js';
import type { BridgeSide } from '../upstream/bridge-side.js';
import type { ServedTally } from './served-tally.js';
import {
  type PlatformStatus,
  type StatusServer,
  type StatusSource,
  startStatusServer,
} from './status-server.js';

export type StatusParts = {
  /** The bridge, its readiness, what `bridge: auto` found, and the configuration in force. */
  side: BridgeSide<AgentConfig>;
  pool: LinkPool;
  shares: SlotShares;
  hub: StreamHub;
  /** What the bridge served since the start. */
  served: ServedTally;
  settings: AgentSettings;
  /** The log file this run writes, if any (service/run-log.ts). */
  logFile?: string | undefined;
};

/** The body of `/platform/status`. */
export function platformStatus(parts: StatusParts): PlatformStatus {
  const { pool, shares, hub, settings } = parts;
  const { config, readiness, bridge, detection } = parts.side;
  const connections = pool.status().map((link) => ({
    ...link,
    slots: shares.granted(link.link),
    in_flight: hub.inFlightOn(link.link),
  }));
  // The top-level fields describe the first live connection (or the first one), as before.
  const main = connections.find((link) => link.connected) ?? connections[0];
  return {
    connected: main?.connected ?? false,
    relay_url: main?.relay_url ?? config.relayUrls[0]!,
    client_id: config.clientId ?? null,
    session_id: main?.session_id ?? null,
    last_heartbeat: main?.last_heartbeat ?? null,
    reconnects: connections.reduce((sum, link) => sum + link.reconnects, 0),
    ready: readiness.ready,
    ready_reason: readiness.reason ?? null,
    ready_code: readiness.code ?? null,
    ready_fix: readiness.code ? BRIDGE_REASON_WORDS[readiness.code].en : null,
    ready_fix_zh: readiness.code ? BRIDGE_REASON_WORDS[readiness.code].zh : null,
    retry_at: readiness.holdUntil > Date.now() ? new Date(readiness.holdUntil).toISOString() : null,
    max_concurrency: settings.maxConcurrency,
    bridge: bridge.dialect.name,
    bridge_setting: config.bridge,
    bridge_evidence: detection?.evidence ?? null,
    prompt_limit_chars: bridge.dialect.promptLimitChars ?? null,
    settings: settings.sources(),
    connections,
    served: parts.served.snapshot(),
    // Only when there is one: a run in a terminal shows the same body as before.
    ...(parts.logFile === undefined ? {} : { log_file: parts.logFile }),
  };
}

/** The status server's port on 127.0.0.1, from the agent's start until it is released. */
export class StatusPort {
  #server: StatusServer | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  /**
   * `retryMs`: a busy port is retried this often in the background instead of failing the start
   * (a process started by a self-update, whose predecessor still holds the port for a moment).
   */
  constructor(
    readonly port: number,
    private readonly source: StatusSource,
    private readonly retryMs?: number,
  ) {}

  /** `http://127.0.0.1:<port>` while the server runs. */
  get url(): string | undefined {
    return this.#server?.url;
  }

  /** Starts the server; throws with the port and the reason unless a busy port is retried. */
  async open(): Promise<void> {
    try {
      await this.#start();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && this.retryMs !== undefined) return this.#retryLater(this.retryMs);
      const reason = code ?? (error as Error).message;
      throw new Error(`cannot start the status server on 127.0.0.1:${this.port}: ${reason}`);
    }
  }

  /** No more retries (the agent is closing). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  /** Closes the server now (a self-update's successor takes the port while this one drains). */
  async release(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  async #start(): Promise<void> {
    this.#server = await startStatusServer(this.port, this.source);
  }

  #retryLater(everyMs: number): void {
    this.#retry = setTimeout(() => {
      if (this.#stopped) return;
      this.#start().catch(() => this.#retryLater(everyMs));
    }, everyMs);
    this.#retry.unref();
  }
}

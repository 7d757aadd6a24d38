/**
 * What an embedder sees of a running agent (cli.ts, tests, the package's index): the options of
 * `startAgent`, the events it emits and the handle it returns. The wiring is agent.ts's.
 */
import type { EventEmitter } from 'node:events';
import type { BackoffOptions, UpdateFrame, UpdateResultFrame } from '@arena-relay/shared';
import type { FieldName } from './config/schema.js';
import type { Logger } from './logging.js';
import type { Spawner } from './notify/desktop-notifier.js';
import type { AgentStats, PlatformStatus } from './status/status-server.js';
import type { BridgeSideOptions } from './upstream/bridge-side.js';

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
  /** `report` tells the offering relay an offer was not taken (sent only if it asked for that). */
  update: [offer: UpdateFrame, connectUrl: string, report: (result: UpdateResultFrame) => void];
};

/** Knobs for embedding and tests; defaults suit production. The bridge's are BridgeSideOptions. */
export type AgentOptions = BridgeSideOptions & {
  /** Defaults to a pino root at `config.logLevel`. */
  logger?: Logger;
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

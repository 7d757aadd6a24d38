/** Shared types of the relay's Hono app: node bindings plus per-request variables. */
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Notifier } from '../alerts/notifier.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { PushedSettings } from '../clients/pushed-settings.js';
import type { Cluster } from '../cluster/cluster.js';
import type { RelayConfig } from '../config/load-config.js';
import type { ErrorShape } from '../errors/error-shapes.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { RequestStats } from '../metrics/request-stats.js';
import type { AliasBook } from '../models/alias-book.js';
import type { AgentBundle } from '../package/agent-bundle.js';
import type { AgentUpdates } from '../package/agent-updates.js';
import type { ExchangeObserver } from '../proxy/observer.js';
import type { ExchangeRegistry } from '../proxy/registry.js';
import type { RequestLog } from '../requests/request-log.js';
import type { Router } from '../routing/router.js';
import type { AuthGuard } from '../security/auth-guard.js';
import type { Store } from '../store/store.js';
import type { AgentHub, TokenRetire } from '../tunnel/agent-hub.js';
import type { Accounting } from '../usage/accounting.js';

export type AppEnv = {
  Bindings: HttpBindings;
  /**
   * `log`: the request's logger (a child with its request id), made on first call. `errorShape`:
   * set by routes of APIs whose errors are not OpenAI's (default `openai`).
   */
  Variables: {
    requestId: string;
    log: () => Logger;
    errorShape?: ErrorShape;
    /** Set by the admin guard: who is acting (`admin_token:<fingerprint>` or `key:<id>`). */
    adminActor?: string;
  };
};

/** Everything route modules need, built once by the server. */
export type AppDeps = {
  config: RelayConfig;
  /** Sends alerts to the operator's channels (`/api/alerts/*`). */
  notifier: Notifier;
  /** Every operator action, recorded (`/api/audit`). */
  audit: AuditLog;
  store: Store;
  hub: AgentHub;
  router: Router;
  registry: ExchangeRegistry;
  /** Told about every proxied request when it ends (usage, metrics, the request log). */
  observer: ExchangeObserver;
  /** The last requests this relay took (`/api/requests`). */
  requestLog: RequestLog;
  /** The agent bundle this relay ships, and the self-update offers made of it. */
  agentBundle: () => Promise<AgentBundle>;
  updates: AgentUpdates;
  /** The operator's per-client agent settings (`/api/clients/{id}/settings`). */
  pushedSettings: PushedSettings;
  /** The operator's model aliases (`/api/aliases`), cached. */
  aliases: AliasBook;
  /** Rate limits (keys, clients) and usage metering. */
  accounting: Accounting;
  /** Prometheus metrics (`/metrics`) and the rolling request windows of `/api/stats`. */
  metrics: RelayMetrics;
  stats: RequestStats;
  /** Set when the relay is shutting down: new consumer requests are refused. */
  lifecycle: { draining: boolean };
  logger: Logger;
  /** Brakes addresses that keep failing authentication. */
  authGuard: AuthGuard;
  /**
   * Closes a client's agent sockets on every relay of the cluster (token rotated, disabled,
   * deleted); with `retire`, only those holding a replaced token, when its grace ends.
   */
  closeClientSockets(clientId: string, reason: string, retire?: TokenRetire): void;
  /** Null without Redis; else whether the cluster connection is up (for /readyz). */
  clusterHealthy(): boolean | null;
  /** This relay's instance id (shown in stream listings; the Redis membership key later). */
  relayId: string;
  /** The relays sharing this one's Redis; unset for a relay on its own (admin views are then local). */
  cluster?: Cluster | undefined;
  adminTokenHash: string;
};

/**
 * The admin API's answers as the dashboard reads them (JSDoc `@import`s these; the browser never
 * loads this file). Records the Store defines are its own types, so a renamed field fails the
 * dashboard's type-check too; the rest mirror the route handlers' JSON.
 */

import type { LogLevel } from '../../../shared/src/config.js';
import type { LiveClient } from '../clients/live-client.js';
import type { Percentiles, Timeline, WindowSummary } from '../metrics/rolling-window.js';
import type { ApiKeyLimits, ApiKeyRecord, ApiKeyScope, ClientRateLimit } from '../store/store.js';

/** `GET /api/clients` rows: the stored record joined with its live agents (clients/live-client.ts). */
type ClientRecord = LiveClient;

export type {
  ApiKeyLimits,
  ApiKeyRecord,
  ApiKeyScope,
  ClientRateLimit,
  ClientRecord,
  LogLevel,
  Percentiles,
  Timeline,
  WindowSummary,
};

type Windows = { minute: WindowSummary; hour: WindowSummary; day: WindowSummary; timeline: Timeline };

/** `GET /api/stats` (metrics/request-stats.ts; `relay` names the relay that answered). */
export type Stats = {
  relay?: string;
  overall: Windows;
  clients: Array<{ client_id: string } & Windows>;
  keys: Array<{ key_id: string } & Windows>;
};

export type Agent = {
  id: string;
  relay?: string;
  client_id: string;
  client_name: string;
  connected_since: string;
  models: string[];
  max_concurrency: number;
  in_flight: number;
  ready: boolean;
  ready_reason: string | null;
  ready_code: string | null;
  ready_fix: string | null;
  draining: boolean;
  rtt_ms: number | null;
  cooldown: { benched: boolean; reason: string | null } | null;
};

export type Unreachable = { relay: string; error?: string; message?: string };

export type Stream = {
  id: string;
  key_id: string;
  client_id: string | null;
  model: string;
  started: string;
  bytes: number;
};

export type Relay = {
  id: string;
  reachable: boolean;
  error?: string;
  message?: string;
  draining?: boolean;
  version?: string;
  started_at?: string;
  agents?: number;
  streams_in_flight?: number;
  redis?: { mode: string; master?: string | null; connections: Record<string, string> } | null;
};

export type AuditEntry = {
  id: string;
  at: string;
  action: string;
  target: string | null;
  actor: string;
  address: string;
  status: number;
  change: unknown;
};

export type UsageGroup = { key_id?: string; total_tokens: number };

export type HealthAnswer = {
  summary: { agents: number; healthy: number };
  agents: Array<{
    agent_id: string;
    client_name: string;
    relay?: string;
    result: 'answered' | 'timeout' | 'disconnected';
    ok?: boolean;
    round_trip_ms: number;
    bridge?: { reason?: string; latency_ms: number } | null;
  }>;
};

/** `PUT /api/clients/{id}/settings`: what the relay pushes to the client's agents. */
export type ClientSettings = {
  max_concurrency?: number;
  models?: { only?: string[]; hide?: string[] };
  log_level?: string;
};

/** `PUT /api/clients/{id}/agent-update`. */
export type UpdatePolicy = { mode: 'auto' } | { mode: 'off' } | { mode: 'pin'; version: string };

export type ChannelKind = 'webhook' | 'slack' | 'discord' | 'telegram' | 'email';

/** A channel as `/api/alerts/channels` shows it: secrets as previews. */
export type Channel = {
  id: string;
  kind: ChannelKind;
  name: string;
  enabled: boolean;
  created_at: string;
  url?: string;
  secret_preview?: string | null;
  chat_id?: string;
  bot_token_preview?: string;
  to?: string[];
};

export type Delivery = {
  at: string;
  channel_id: string;
  channel_name: string;
  /** `owner_webhook`: a client owner's own webhook (not a channel of the list). */
  channel_kind: ChannelKind | 'owner_webhook';
  alert_id: string;
  alert_kind: string;
  rule: string;
  attempts: number;
  state: 'delivered' | 'pending' | 'failed';
  status?: number;
  error?: string;
};

/**
 * An attempt of a request (requests/request-entry.ts; mirrored: that module's zod and shared
 * imports need Node's types), with the owner's fix for its reason as the API adds it.
 */
export type RequestAttempt = {
  agent_id: string;
  client_id: string | null;
  model: string;
  started_ms: number;
  duration_ms: number | null;
  code: string | null;
  reason: string | null;
  upstream_status: number | null;
  fix: string | null;
};

/** `GET /api/requests` entries (requests/request-entry.ts). */
export type RequestLine = {
  id: string;
  relay: string;
  at: string;
  key_id: string;
  client_id: string | null;
  agent_id: string | null;
  model: string;
  model_served: string | null;
  stream: boolean;
  status: number;
  outcome: string;
  error_code: string | null;
  result?: 'ok' | 'failed' | 'consumer_error' | 'cancelled';
  attempts: RequestAttempt[];
  ttfb_ms: number | null;
  duration_ms: number;
  bytes: number;
};

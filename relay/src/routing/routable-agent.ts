/**
 * What the router needs of an agent, wherever it is connected: an AgentSession on this relay, or
 * a RemoteAgent on another relay of the cluster (reached through Redis).
 */
import type { StreamHandle, StreamHandlers } from '../tunnel/stream.js';

export type OpenRequest = {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: unknown;
};

export interface RoutableAgent {
  /** Session id (unique across the cluster). */
  readonly id: string;
  /** Client id + agent instance: stable across reconnects (sticky pins and cooldown use it). */
  readonly agentKey: string;
  readonly clientId: string;
  /** The relay the agent's socket is on. */
  readonly relayId: string;
  readonly models: ReadonlySet<string>;
  /** Said hello, ready, not draining, connected. */
  readonly routable: boolean;
  readonly hasCapacity: boolean;
  /** Share of capacity in use (0 idle … 1 full). */
  readonly load: number;
  readonly maxConcurrency: number;
  readonly ttfbEwmaMs: number | undefined;
  /** Takes a slot for a request that will call `open` shortly. */
  reserve(): void;
  /** Gives back a reserved slot that will not be used. */
  release(): void;
  recordTtfb(ms: number): void;
  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle;
}

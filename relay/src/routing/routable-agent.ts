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
  /**
   * `body` as the JSON bytes the consumer sent (parsed and checked already): a local agent's
   * `open` carries them as they are instead of re-encoding `body` (for a 3 MiB image request,
   * encoding the frame took ~10 ms of the relay's event loop).
   */
  bodyJson?: Buffer;
  /**
   * The model routed for the request (an alias or a fallback names another than asked): it
   * travels as `open.model`, and nothing reads it back out of the body.
   */
  model?: string | undefined;
  /**
   * `body` names another model than `model` (an alias or a fallback was routed). Whoever hands
   * the body to the bridge writes `model` into it: the agent when its hello said `routedModel`,
   * else the relay as it encodes the `open` (tunnel/open-encoder.ts).
   */
  rerouted?: boolean | undefined;
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
  /**
   * Its relay is shutting down and told it so: not routable, but moving to another relay, where
   * it will be again in a moment. A request it could serve waits for it instead of failing.
   */
  readonly goingAway?: boolean;
  readonly hasCapacity: boolean;
  /** Share of capacity in use (0 idle … 1 full). */
  readonly load: number;
  readonly maxConcurrency: number;
  /** The longest prompt its bridge takes, in characters (routing/prompt-limit.ts); undefined: no known limit. */
  readonly promptLimitChars?: number | undefined;
  readonly ttfbEwmaMs: number | undefined;
  /** Takes a slot for a request that will call `open` shortly. */
  reserve(): void;
  /** Gives back a reserved slot that will not be used. */
  release(): void;
  recordTtfb(ms: number): void;
  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle;
}

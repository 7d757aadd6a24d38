/** What a relay-side stream looks like to the code that consumes it, whichever agent serves it. */
import type { BridgeReasonCode, FailureScope, StreamErrorCode } from '@arena-relay/shared';

/** Why a stream ended badly. `agent_gone`: the socket closed under it. */
export type StreamFailure = {
  code: StreamErrorCode | 'agent_gone';
  message: string;
  /** Upstream HTTP status, when the bridge gave one. */
  status?: number;
  /** Who the agent says the failure is on (absent from older agents: see `failureScope`). */
  scope?: FailureScope;
  /** For a bridge-wide failure: why the bridge cannot serve. */
  reason?: BridgeReasonCode;
  /** How long LMArena asked to wait, in ms. */
  retryAfterMs?: number;
};

/** Callbacks a stream's consumer provides. Called synchronously from the socket's message handler. */
export interface StreamHandlers {
  onHead(status: number, headers: Record<string, string>): void;
  /** Hot path: `payload` is a view into the received frame; copy it if you keep it. */
  onData(payload: Buffer): void;
  onEnd(): void;
  onFailure(failure: StreamFailure): void;
}

/** The relay's grip on one open stream. */
export interface StreamHandle {
  readonly id: number;
  /** Tells the agent to abort the upstream request; no further callbacks fire. Idempotent. */
  cancel(reason: string): void;
  /** Returns `bytes` of flow-control credit to the agent once they have left the relay. */
  grant(bytes: number): void;
}

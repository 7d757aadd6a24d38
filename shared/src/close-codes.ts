/** WebSocket close codes on the agent socket, both directions: one table, read by relay and agent. */
export const CloseCode = {
  NORMAL: 1000,
  /** The peer is shutting down (relay restart, agent exit). */
  GOING_AWAY: 1001,
  /** A frame broke the protocol; the reason says which. */
  PROTOCOL_ERROR: 1002,
  /** The agent broke a rule that is not the wire format (identity, per-client caps). */
  POLICY: 1008,
  /** A message larger than the receiver takes (set by ws itself). */
  TOO_BIG: 1009,
  /** The agent missed two heartbeats. */
  HEARTBEAT: 4000,
  /** A new session of the same agent instance took this one's place. */
  REPLACED: 4001,
  /** An operator disconnected the agent. */
  KICKED: 4002,
  /** The client token the agent holds was replaced (download, rotation) and its grace is over. */
  TOKEN_ROTATED: 4003,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

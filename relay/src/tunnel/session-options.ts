/** What the hub gives each agent session, and the part of a WebSocket a session uses. */
import type { Corkable } from '@arena-relay/shared';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { ClientRecord } from '../store/store.js';
import type { AgentSession } from './agent-session.js';

export type SessionOptions = {
  sessionId: string;
  relayId: string;
  client: ClientRecord;
  remoteAddress: string;
  heartbeatMs: number;
  streamWindow: number;
  maxFrameBytes: number;
  /** How long an agent may take to say hello, in ms. */
  helloTimeoutMs: number;
  /** The TCP socket the upgrade handed to `ws`: corked per turn to batch writes. */
  socket?: Corkable;
  logger: Logger;
  onReady(session: AgentSession): void;
  onClose(session: AgentSession): void;
  /** A stream ended or the agent became ready: capacity may have freed up. */
  onCapacity(session: AgentSession): void;
};

/** The part of a WebSocket a session uses (a small fake stands in for it in unit tests). */
export type SessionSocket = Pick<
  WebSocket,
  'on' | 'send' | 'ping' | 'close' | 'terminate' | 'readyState' | 'OPEN'
>;

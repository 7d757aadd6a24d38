/**
 * The agent hub: accepts agents' WebSockets (authenticated before the upgrade: upgrade.ts), keeps
 * the live sessions (session-roster.ts), and runs one heartbeat timer for all of them. On shutdown it tells every agent the
 * relay is going away (`goaway`), so each dials another relay while its streams here finish.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, type GoawayFrame, SUBPROTOCOL } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AuthGuard } from '../security/auth-guard.js';
import { generateId } from '../store/secrets.js';
import type { Store } from '../store/store.js';
import { AgentSession } from './agent-session.js';
import { SessionRoster } from './session-roster.js';
import { TokenRetirement } from './token-retirement.js';
import { type AdmittedUpgrade, admitUpgrade } from './upgrade.js';

export type HubOptions = {
  store: Store;
  /** This relay's id, stamped on its sessions. */
  relayId: string;
  logger: Logger;
  heartbeatMs: number;
  streamWindow: number;
  maxFrameBytes: number;
  helloTimeoutMs?: number;
  /** Brakes addresses that keep presenting bad tokens. */
  authGuard?: AuthGuard;
  /** Most live agents one client may have (default 16). */
  maxAgentsPerClient?: number;
  /** Resolves the address to show for an agent (honours TRUST_PROXY). */
  remoteAddress(req: IncomingMessage): string;
};

/** A client token was replaced: the new token's hash, and when the old ones' grace ends (ms epoch). */
export type TokenRetire = { currentTokenHash: string; at: number };

export interface HubEvents {
  session: [AgentSession];
  'session-closed': [AgentSession];
  /** Capacity may have freed up (a stream ended, an agent became ready or joined). */
  capacity: [AgentSession];
}

export class AgentHub extends EventEmitter<HubEvents> {
  /** Live sessions that completed hello, by session id. */
  readonly sessions: ReadonlyMap<string, AgentSession>;
  private readonly roster: SessionRoster;
  private readonly retirement = new TokenRetirement();
  private readonly wss: WebSocketServer;
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  /** Set by `goAway`: the `goaway` frame every session gets, late joiners included. */
  private leaving: GoawayFrame | undefined;

  constructor(private readonly options: HubOptions) {
    super();
    this.roster = new SessionRoster(options.maxAgentsPerClient ?? 16);
    this.sessions = this.roster.sessions;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      // Measured for issue 24 and left as they are: `skipUTF8Validation` saves no allocation
      // (binary DATA frames are never validated, text ones natively) and would let invalid UTF-8
      // through as U+FFFD (test/security-hostile-agent.test.ts); `allowSynchronousEvents` is
      // already on for servers; each message is one unfragmented frame, which ws hands over
      // without a copy (its per-frame views are inside its receiver). Agents mask (RFC 6455).
      skipUTF8Validation: false,
      allowSynchronousEvents: true,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs);
    this.timer.unref();
  }

  /** Handles an HTTP upgrade; answers 404/426/401 without upgrading when it must (upgrade.ts). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const leaving = this.closing !== undefined || this.leaving !== undefined;
    void admitUpgrade(req, socket, this.options, leaving).then((admitted) => {
      if (!admitted || socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, socket, admitted));
    });
  }

  /** Sessions that completed hello. */
  list(): AgentSession[] {
    return [...this.sessions.values()];
  }

  /**
   * Closes every socket of a client (token rotated, client disabled or deleted); its streams
   * fail at once. Returns how many sockets were closed. With `retire`, only the sockets holding
   * an older token than `retire.currentTokenHash` close, when its grace ends (close 4003); returns
   * how many will.
   */
  closeClient(clientId: string, reason: string, retire?: TokenRetire): number {
    const sessions = this.roster.all();
    if (retire) return this.retirement.retire(sessions, clientId, retire.currentTokenHash, retire.at);
    let closed = 0;
    for (const session of sessions) {
      if (session.client.id !== clientId) continue;
      session.close(CloseCode.POLICY, reason);
      closed++;
    }
    return closed;
  }

  /** Streams in flight on this relay's agent sockets (forwarded ones from other relays included). */
  get inFlight(): number {
    let sum = 0;
    for (const session of this.sessions.values()) sum += session.inFlight;
    return sum;
  }

  /**
   * The relay is shutting down: refuses new agents, and tells every agent that it takes no new
   * stream here and closes in `graceMs`, so it dials another relay now. Streams in flight run on.
   * Idempotent.
   */
  goAway(graceMs: number, reason = 'relay shutting down'): void {
    if (this.leaving) return;
    this.leaving = { type: 'goaway', graceMs, reason };
    for (const session of this.sessions.values()) this.sendGoaway(session);
    // Sessions still saying hello get it right after their welcome (onReady).
  }

  /** Resolves once no stream is in flight on any agent socket of this relay. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.inFlight > 0) return;
        this.off('capacity', check);
        this.off('session-closed', check);
        resolve();
      };
      this.on('capacity', check);
      this.on('session-closed', check);
    });
  }

  /**
   * Stops accepting agents and closes every socket with "going away" (agents reconnect
   * elsewhere). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      for (const session of this.roster.all()) session.close(CloseCode.GOING_AWAY, 'relay shutting down');
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  /** The upgraded socket becomes a session, pending until its hello. */
  private accept(ws: WebSocket, req: IncomingMessage, socket: Duplex, admitted: AdmittedUpgrade): void {
    const { client } = admitted;
    const sessionId = generateId('ses');
    const session = new AgentSession(ws, {
      sessionId,
      relayId: this.options.relayId,
      client,
      remoteAddress: this.options.remoteAddress(req),
      heartbeatMs: this.options.heartbeatMs,
      streamWindow: this.options.streamWindow,
      maxFrameBytes: this.options.maxFrameBytes,
      helloTimeoutMs: this.options.helloTimeoutMs ?? 10_000,
      // The socket ws now reads and writes: corked per turn to batch its writes.
      socket,
      logger: this.options.logger.child({ agentId: sessionId, clientId: client.id }),
      onReady: (s) => this.onReady(s),
      onClose: (s) => this.onClosed(s),
      onCapacity: (s) => {
        this.roster.closeIfDrained(s);
        this.emit('capacity', s);
      },
    });
    this.retirement.admit(session, admitted.tokenHash, admitted.retiresAt);
    this.roster.addPending(session);
  }

  private onReady(session: AgentSession): void {
    if (!this.roster.admit(session)) {
      session.close(CloseCode.POLICY, 'too many agents connected for this client');
      return;
    }
    this.options.store.touchClient(session.client.id, new Date()).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not record client last_seen');
    });
    this.options.logger.info(
      { agentId: session.id, clientId: session.client.id, models: session.models.size, ready: session.ready },
      'agent connected',
    );
    this.emit('session', session);
    if (this.leaving) this.sendGoaway(session);
    this.emit('capacity', session);
  }

  private sendGoaway(session: AgentSession): void {
    // Not routable from now on; `goingAway` tells routers the agent is moving, not gone.
    session.draining = true;
    session.goingAway = true;
    session.send(this.leaving!);
  }

  private onClosed(session: AgentSession): void {
    this.retirement.forget(session);
    if (this.roster.remove(session)) this.emit('session-closed', session);
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const session of this.roster.all()) session.heartbeat(now);
  }
}

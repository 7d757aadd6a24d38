/**
 * The agent hub: accepts agents' WebSockets (authenticated before the upgrade), keeps the live
 * sessions, and runs one heartbeat timer for all of them. On shutdown it tells every agent the
 * relay is going away (`goaway`), so each dials another relay while its streams here finish.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AGENT_CONNECT_PATH,
  CloseCode,
  type GoawayFrame,
  SUBPROTOCOL,
  TOKEN_ROTATED,
} from '@arena-relay/shared';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { RelayError, type RelayErrorCode } from '../errors/relay-error.js';
import type { AuthGuard } from '../security/auth-guard.js';
import { generateId, hashSecret } from '../store/secrets.js';
import { type Store, tokenAccepted } from '../store/store.js';
import { AgentSession } from './agent-session.js';
import { TOKEN_ROTATED_REASON, TokenRetirement } from './token-retirement.js';
import { bearerToken, offersSubprotocol, refuseUpgrade } from './upgrade.js';

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
  readonly sessions = new Map<string, AgentSession>();
  private readonly pending = new Set<AgentSession>();
  private readonly byAgentKey = new Map<string, AgentSession>();
  /** Sessions a newer one of the same agent replaced: draining, closed once idle. */
  private readonly replaced = new Set<AgentSession>();
  private readonly perClient = new Map<string, number>();
  private readonly retirement = new TokenRetirement();
  private readonly wss: WebSocketServer;
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  /** Set by `goAway`: the `goaway` frame every session gets, late joiners included. */
  private leaving: GoawayFrame | undefined;

  constructor(private readonly options: HubOptions) {
    super();
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs);
    this.timer.unref();
  }

  /** Handles an HTTP upgrade; answers 404/426/401 without upgrading when it must. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const refuse = (code: RelayErrorCode, message: string, retryAfter?: number) =>
      refuseUpgrade(socket, new RelayError(code, message, { retryAfter }));
    if (path !== AGENT_CONNECT_PATH) return refuse('not_found', 'not found');
    if (this.closing || this.leaving) return refuse('shutting_down', 'relay is shutting down');
    if (!offersSubprotocol(req)) {
      return refuse('unsupported_subprotocol', `subprotocol ${SUBPROTOCOL} required`);
    }
    const address = this.options.remoteAddress(req);
    const wait = this.options.authGuard?.retryAfter(address) ?? 0;
    if (wait > 0) {
      return refuse('too_many_auth_failures', 'too many failed authentication attempts; slow down', wait);
    }
    const token = bearerToken(req);
    if (!token) {
      this.options.authGuard?.failed(address);
      return refuse('invalid_client_token', 'missing client token');
    }
    const tokenHash = hashSecret(token);
    this.options.store.findClientToken(tokenHash).then(
      (match) => {
        if (!match) {
          this.options.authGuard?.failed(address);
          return refuse('invalid_client_token', 'invalid client token');
        }
        if (!tokenAccepted(match)) {
          this.options.authGuard?.failed(address);
          return refuse(TOKEN_ROTATED, TOKEN_ROTATED_REASON);
        }
        const { client } = match;
        if (client.status === 'disabled') return refuse('client_disabled', 'client is disabled');
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => {
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
              this.closeIfDrained(s);
              this.emit('capacity', s);
            },
          });
          this.retirement.admit(session, tokenHash, match.retiresAt);
          this.pending.add(session);
        });
      },
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'client lookup failed during upgrade');
        refuse('store_unavailable', 'relay store unavailable');
      },
    );
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
    if (retire) {
      const sessions = [...this.pending, ...this.sessions.values()];
      return this.retirement.retire(sessions, clientId, retire.currentTokenHash, retire.at);
    }
    let closed = 0;
    for (const session of [...this.pending, ...this.sessions.values()]) {
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
      for (const session of [...this.pending, ...this.sessions.values()]) {
        session.close(CloseCode.GOING_AWAY, 'relay shutting down');
      }
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  private onReady(session: AgentSession): void {
    this.pending.delete(session);
    const previous = this.byAgentKey.get(session.agentKey);
    if (previous) this.replace(previous);
    const siblings = this.perClient.get(session.client.id) ?? 0;
    if (siblings >= (this.options.maxAgentsPerClient ?? 16)) {
      session.close(CloseCode.POLICY, 'too many agents connected for this client');
      return;
    }
    this.sessions.set(session.id, session);
    this.byAgentKey.set(session.agentKey, session);
    this.countClient(session.client.id, 1);
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

  /**
   * A new session of the same agent process took this one's place. Its socket may be stale
   * (half-open after a network blip), or live and deliberately kept (the agent dialled this relay
   * again after another relay's `goaway`, or a balancer sent it here twice): either way no new
   * stream goes to it, and it closes once its streams in flight end, never cutting one. A socket
   * that is really dead fails its pings and is cleared by the heartbeat, streams and all.
   */
  private replace(previous: AgentSession): void {
    if (this.replaced.has(previous)) return;
    previous.draining = true;
    this.replaced.add(previous);
    // No longer one of the client's agents: its successor takes its place in the count.
    this.countClient(previous.client.id, -1);
    this.closeIfDrained(previous);
  }

  private closeIfDrained(session: AgentSession): void {
    // Reserved slots count: a request that reserved one opens its stream right after.
    if (!this.replaced.has(session) || session.closed || session.streams.used > 0) return;
    session.close(CloseCode.REPLACED, 'replaced by a new session of the same agent');
  }

  private countClient(clientId: string, by: number): void {
    const count = (this.perClient.get(clientId) ?? 0) + by;
    if (count > 0) this.perClient.set(clientId, count);
    else this.perClient.delete(clientId);
  }

  private sendGoaway(session: AgentSession): void {
    // Not routable from now on; `goingAway` tells routers the agent is moving, not gone.
    session.draining = true;
    session.goingAway = true;
    session.send(this.leaving!);
  }

  private onClosed(session: AgentSession): void {
    this.retirement.forget(session);
    this.pending.delete(session);
    const wasReplaced = this.replaced.delete(session);
    if (!this.sessions.delete(session.id)) return;
    if (this.byAgentKey.get(session.agentKey) === session) this.byAgentKey.delete(session.agentKey);
    if (!wasReplaced) this.countClient(session.client.id, -1);
    this.emit('session-closed', session);
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const session of this.pending) session.heartbeat(now);
    for (const session of this.sessions.values()) session.heartbeat(now);
  }
}

/**
 * Who is connected to the hub: sessions still saying hello, live ones by session id and by agent
 * (client + instance id: one live session per agent process), the sessions a newer one of the
 * same agent replaced (draining, closed once their streams end), and each client's count of live
 * agents against its cap (GATEWAY_MAX_AGENTS_PER_CLIENT).
 */
import { CloseCode } from '@arena-relay/shared';
import type { AgentSession } from './agent-session.js';

export class SessionRoster {
  /** Live sessions that completed hello, by session id. */
  readonly sessions = new Map<string, AgentSession>();
  private readonly pending = new Set<AgentSession>();
  private readonly byAgentKey = new Map<string, AgentSession>();
  /** Sessions a newer one of the same agent replaced: draining, closed once idle. */
  private readonly replaced = new Set<AgentSession>();
  private readonly perClient = new Map<string, number>();

  constructor(private readonly maxPerClient: number) {}

  /** A new socket, until its hello. */
  addPending(session: AgentSession): void {
    this.pending.add(session);
  }

  /** Every session: those still saying hello first, then the live ones. */
  all(): AgentSession[] {
    return [...this.pending, ...this.sessions.values()];
  }

  /**
   * The session said hello: it takes the place of an older session of the same agent, and joins
   * the live ones unless its client already has its most agents (false: the caller closes it).
   */
  admit(session: AgentSession): boolean {
    this.pending.delete(session);
    const previous = this.byAgentKey.get(session.agentKey);
    if (previous) this.replace(previous);
    if ((this.perClient.get(session.client.id) ?? 0) >= this.maxPerClient) return false;
    this.sessions.set(session.id, session);
    this.byAgentKey.set(session.agentKey, session);
    this.count(session.client.id, 1);
    return true;
  }

  /** The session closed: it leaves the roster. True when it was a live one. */
  remove(session: AgentSession): boolean {
    this.pending.delete(session);
    const wasReplaced = this.replaced.delete(session);
    if (!this.sessions.delete(session.id)) return false;
    if (this.byAgentKey.get(session.agentKey) === session) this.byAgentKey.delete(session.agentKey);
    if (!wasReplaced) this.count(session.client.id, -1);
    return true;
  }

  /** Closes a replaced session once no stream is in flight or reserved on it. */
  closeIfDrained(session: AgentSession): void {
    // Reserved slots count: a request that reserved one opens its stream right after.
    if (!this.replaced.has(session) || session.closed || session.streams.used > 0) return;
    session.close(CloseCode.REPLACED, 'replaced by a new session of the same agent');
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
    this.count(previous.client.id, -1);
    this.closeIfDrained(previous);
  }

  private count(clientId: string, by: number): void {
    const count = (this.perClient.get(clientId) ?? 0) + by;
    if (count > 0) this.perClient.set(clientId, count);
    else this.perClient.delete(clientId);
  }
}

/**
 * A Route: the slot the Router reserved on one agent for one attempt of a request, and the way
 * that attempt's outcome gets back into routing. A success pins the request's session to the
 * agent and clears its cooldown; a failure that is the agent's fault counts towards benching it.
 */
import type { StreamFailure } from '../tunnel/stream.js';
import type { Cooldown } from './cooldown.js';
import type { RoutableAgent } from './routable-agent.js';
import type { PinOutcome, StickyStore } from './sticky.js';

/**
 * Failures that count against the agent's health. Not the request's own faults, not "busy", and
 * not a vanished agent or relay: a reconnected agent keeps its identity, and must not find itself
 * benched for its old socket's death.
 */
export function countsAgainstAgent(failure: StreamFailure): boolean {
  return (
    failure.code !== 'upstream_rejected' &&
    failure.code !== 'cancelled' &&
    failure.code !== 'busy' &&
    failure.code !== 'agent_gone'
  );
}

/** What a Route reports to: the Router's cooldown and sticky table. */
export type RouteFeedback = { cooldown: Cooldown; sticky: StickyStore };

/** A reserved slot on an agent: call `session.open` at once, or `session.release()`. */
export class Route {
  constructor(
    readonly session: RoutableAgent,
    /** The candidate model the agent was chosen for. */
    readonly model: string,
    /** With a session name: whether its pin was kept, new, or moved to this agent. */
    readonly pin: PinOutcome | undefined,
    private readonly sessionName: string | undefined,
    private readonly feedback: RouteFeedback,
  ) {}

  /** The agent answered (its head arrived): pin the session to it, clear its cooldown. */
  succeeded(): void {
    const key = this.session.agentKey;
    if (this.sessionName) this.feedback.sticky.set(this.sessionName, key);
    this.feedback.cooldown.success(key);
  }

  /**
   * The attempt failed. When the failure is the agent's fault it counts towards the cooldown;
   * returns the bench period in ms when this failure benched the agent.
   */
  failed(failure: StreamFailure): number | undefined {
    if (!countsAgainstAgent(failure)) return undefined;
    return this.feedback.cooldown.failure(this.session.agentKey, `${failure.code}: ${failure.message}`);
  }
}

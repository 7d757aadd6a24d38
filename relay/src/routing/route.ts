/**
 * A Route: the slot the Router reserved on one agent for one attempt of a request, and the way
 * that attempt's outcome gets back into routing. A success pins the request's session to the
 * agent and clears its cooldown; a bridge-wide failure counts towards benching the agent, a
 * model's failure towards benching that model on that agent only.
 */
import { countsAgainstAgent, countsAgainstModel } from '../proxy/failures.js';
import type { StreamFailure } from '../tunnel/stream.js';
import type { Cooldown } from './cooldown.js';
import type { RoutableAgent } from './routable-agent.js';
import type { Pin, PinOutcome, StickyStore } from './sticky.js';

/**
 * The cooldown key of one model on one agent: a model-caused failure benches that model there,
 * through the same Cooldown, not the agent for every model.
 */
export function modelCooldownKey(agentKey: string, model: string): string {
  return `${agentKey}\u0000model:${model}`;
}

/** Where pins live, by kind: named sessions and conversations apart, so neither evicts the other. */
export type PinStores = Record<Pin['kind'], StickyStore>;

/** What a Route reports to: the Router's cooldown and pin tables. */
export type RouteFeedback = { cooldown: Cooldown; pins: PinStores };

/** A reserved slot on an agent: call `session.open` at once, or `session.release()`. */
export class Route {
  constructor(
    readonly session: RoutableAgent,
    /** The candidate model the agent was chosen for. */
    readonly model: string,
    /** With a session name: whether its pin was kept, new, or moved to this agent. */
    readonly pin: PinOutcome | undefined,
    private readonly pinned: Pin | undefined,
    private readonly feedback: RouteFeedback,
  ) {}

  /** The agent answered (its head arrived): pin the session or conversation to it, clear its cooldowns. */
  succeeded(): void {
    const key = this.session.agentKey;
    if (this.pinned) this.feedback.pins[this.pinned.kind].set(this.pinned.key, key);
    this.feedback.cooldown.success(key);
    this.feedback.cooldown.success(modelCooldownKey(key, this.model));
  }

  /**
   * The attempt failed. When the failure is the agent's fault it counts towards the cooldown;
   * returns the bench period in ms when this failure benched the agent.
   */
  failed(failure: StreamFailure): number | undefined {
    const reason = `${failure.code}: ${failure.message}`;
    if (countsAgainstAgent(failure)) return this.feedback.cooldown.failure(this.session.agentKey, reason);
    if (countsAgainstModel(failure)) {
      return this.feedback.cooldown.failure(modelCooldownKey(this.session.agentKey, this.model), reason);
    }
    return undefined;
  }
}

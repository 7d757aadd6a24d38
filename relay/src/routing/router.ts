/**
 * Chooses the agent for each attempt of a request. Candidates advertise the model (the first of
 * the request's models that some fit agent serves: candidates.ts), are ready, not draining, not
 * benched by the cooldown, not yet tried for this request, and take a prompt this long; a pinned
 * session (X-Session-Name) keeps its agent while that agent is alive and ready, and a later turn
 * of a conversation prefers the agent of the earlier ones (pins are per API key: sticky.ts).
 * Agents on this relay are preferred; agents on other relays of the cluster serve when no local
 * one can. When every candidate is at capacity the request waits in a bounded FIFO queue
 * (wait-queue.ts). The Route it returns reports the attempt's outcome back (pins, cooldown);
 * callers never see those tables.
 */
import { RelayError } from '../errors/relay-error.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { Balancer } from './balancer.js';
import { chooseCandidates } from './candidates.js';
import { Cooldown, type CooldownState } from './cooldown.js';
import type { RoutableAgent } from './routable-agent.js';
import { modelCooldownKey, Route, type RouteFeedback } from './route.js';
import { type Pin, type PinOutcome, type StickyStore, StickyTable } from './sticky.js';
import { type QueueOptions, type Verdict, WaitQueue } from './wait-queue.js';

export { Route } from './route.js';
export type { QueueOptions } from './wait-queue.js';

export type RouteRequest = {
  /** The consumer request's id. */
  requestId?: string;
  /** Asked once an agent is picked (the request's admission: its clients' rate limits). */
  clientGate?: ClientGate | undefined;
  /** The models that may serve it, in order of preference (one, or fallbacks): the first wins. */
  models: readonly string[];
  tried: ReadonlySet<string>;
  /** The key's named session or conversation, if any (sticky.ts). */
  pin?: Pin | undefined;
  /** The prompt's length as bridges count it: agents with a lower limit do not fit (prompt-limit.ts). */
  promptChars?: number | undefined;
  /**
   * Aborted when the consumer leaves or the request times out: the wait ends. A function, so the
   * signal is only made for requests that actually wait.
   */
  signal: () => AbortSignal;
  /** Clients the client gate refused for this attempt, with their retry-after (s); set by the router. */
  refusedClients?: ReadonlyMap<string, number>;
};

export type ClientVerdict = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/**
 * Asked once an agent is picked: may its client take one more request (the client's own rate
 * limits)? A refused client is left out and the pick repeated. May reject (the request fails).
 */
export type ClientGate = (agent: RoutableAgent) => Promise<ClientVerdict>;

export type RouterOptions = {
  queue?: QueueOptions;
  cooldown?: Cooldown;
  /** Named-session pins (default: in memory). */
  sticky?: StickyStore;
  /** Conversation pins (default: in memory). */
  affinity?: StickyStore;
  /** Agents connected to other relays (empty without a cluster). */
  remoteAgents?: () => RoutableAgent[];
};

/** A request in the wait queue, with the pin looked up for it once. */
type Waiting = { request: RouteRequest; pinnedKey: string | undefined };

export class Router {
  private readonly feedback: RouteFeedback;
  private readonly queue: WaitQueue<Waiting>;
  private readonly remoteAgents: () => RoutableAgent[];

  constructor(
    private readonly hub: AgentHub,
    private readonly balancer: Balancer,
    options: RouterOptions = {},
  ) {
    this.feedback = {
      cooldown: options.cooldown ?? new Cooldown(),
      pins: {
        session: options.sticky ?? new StickyTable(),
        conversation: options.affinity ?? new StickyTable(),
      },
    };
    this.queue = new WaitQueue(options.queue ?? { maxQueue: 100, maxWaitMs: 30_000 });
    this.remoteAgents = options.remoteAgents ?? (() => []);
    hub.on('capacity', () => this.capacityChanged());
  }

  /** The agent's cooldown, for the admin API and metrics: undefined when it has not failed lately. */
  cooldownState(agentKey: string): (Readonly<CooldownState> & { benched: boolean }) | undefined {
    const state = this.feedback.cooldown.state(agentKey);
    return state && { ...state, benched: this.feedback.cooldown.benched(agentKey) };
  }

  /** Requests waiting for capacity. */
  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Serves waiters in FIFO order while capacity lasts (call when remote capacity may have changed). */
  capacityChanged(): void {
    this.queue.serve(this.pickWaiting);
  }

  /** Finds (or waits for) an agent and reserves a slot on it; throws a RelayError when none will do. */
  async acquire(request: RouteRequest): Promise<Route> {
    const gate = request.clientGate;
    if (!gate) return this.reserve(request);
    const refused = new Map<string, number>();
    const scoped = { ...request, refusedClients: refused };
    for (;;) {
      const route = await this.reserve(scoped);
      let verdict: ClientVerdict;
      try {
        verdict = await gate(route.session);
      } catch (error) {
        route.session.release();
        throw error;
      }
      if (verdict.admitted) return route;
      route.session.release();
      refused.set(route.session.clientId, verdict.retryAfterSeconds);
    }
  }

  /** One pick, or a wait in the queue; the client gate is not asked. */
  private async reserve(request: RouteRequest): Promise<Route> {
    const { pin } = request;
    // A first turn has nothing to follow: no lookup (and no Redis round trip) for it.
    const lookup = pin !== undefined && (pin.kind === 'session' || pin.follow);
    const pinnedKey = lookup ? await this.pinFor(pin) : undefined;
    const verdict = this.decide(request, pinnedKey);
    if ('route' in verdict) return verdict.route;
    if ('error' in verdict) throw verdict.error;
    return this.queue.wait({ request, pinnedKey }, request.signal);
  }

  private readonly pickWaiting = (waiting: Waiting): Verdict =>
    this.decide(waiting.request, waiting.pinnedKey);

  /**
   * Throws the 400 `prompt_too_long` when every ready agent serving one of `models` has a prompt
   * limit below `promptChars`: asked before the request counts against anything, so no bridge,
   * limit or meter sees it. Any other reason not to serve is left to `acquire`.
   */
  checkPromptFits(models: readonly string[], promptChars: number): void {
    const chosen = chooseCandidates(models, this.hub.list(), this.remoteAgents(), {
      fit: (a) => a.routable,
      promptChars,
    });
    if ('error' in chosen && chosen.error.code === 'prompt_too_long') throw chosen.error;
  }

  /** Every model some connected agent (on any relay) advertises, sorted. */
  models(): string[] {
    const all = new Set<string>();
    for (const agent of [...this.hub.list(), ...this.remoteAgents()])
      for (const model of agent.models) all.add(model);
    return [...all].sort();
  }

  private async pinFor(pin: Pin): Promise<string | undefined> {
    try {
      return await this.feedback.pins[pin.kind].get(pin.key);
    } catch {
      return undefined; // a shared pin table that is down only costs stickiness
    }
  }

  private decide(request: RouteRequest, pinnedKey: string | undefined): Verdict {
    const local = this.hub.list();
    const remote = this.remoteAgents();
    if (local.length === 0 && remote.length === 0) {
      return {
        error: new RelayError('no_agents_available', 'no bridge agent is connected; try again shortly', {
          retryAfter: 5,
        }),
      };
    }
    const { cooldown } = this.feedback;
    const chosen = chooseCandidates(request.models, local, remote, {
      // A model that keeps failing on one agent is benched there alone (routing/route.ts).
      fit: (a, model) =>
        a.routable &&
        !request.tried.has(a.id) &&
        !cooldown.benched(a.agentKey) &&
        !cooldown.benched(modelCooldownKey(a.agentKey, model)),
      refusedClients: request.refusedClients,
      promptChars: request.promptChars,
    });
    if ('error' in chosen) {
      // An agent whose relay is going away is dialling another one: wait for it there.
      const moving = (a: RoutableAgent) => a.goingAway && request.models.some((m) => a.models.has(m));
      return local.some(moving) || remote.some(moving) ? { busy: true } : chosen;
    }
    const { local: localFit, remote: remoteFit } = chosen;
    let outcome: PinOutcome | undefined;
    let pools = [localFit, remoteFit];
    const { pin } = request;
    if (pin) {
      const pinned =
        pinnedKey === undefined
          ? undefined
          : [...localFit, ...remoteFit].find((a) => a.agentKey === pinnedKey);
      if (pin.kind === 'conversation') {
        // A guess, not a promise: the earlier turns' agent when it has room, else anyone.
        if (pinned) pools = [[pinned], localFit, remoteFit];
      } else if (pinned) {
        outcome = 'kept';
        pools = [[pinned]];
      } else {
        outcome = pinnedKey === undefined ? 'new' : 'repinned';
      }
    }
    // Local first: a remote agent costs two more hops through Redis.
    for (const pool of pools) {
      const open = pool.filter((a) => a.hasCapacity);
      if (open.length === 0) continue;
      const agent = this.balancer.pick(open);
      agent.reserve();
      return { route: new Route(agent, chosen.model, outcome, pin, this.feedback) };
    }
    return { busy: true };
  }
}

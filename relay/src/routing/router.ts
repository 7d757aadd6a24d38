/**
 * Chooses the agent for a request: only agents that advertised the model, are ready, not
 * draining, have capacity and were not already tried for this request are candidates.
 */
import { RelayError } from '../errors/relay-error.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { AgentSession } from '../tunnel/agent-session.js';
import type { Balancer } from './balancer.js';

export class Router {
  constructor(
    private readonly hub: AgentHub,
    private readonly balancer: Balancer,
  ) {}

  /**
   * The agent to try next, or a RelayError saying why there is none: 503 when nothing is
   * connected (or nothing ready), 404 when no agent advertises the model, 503 when all fitting
   * agents are busy or already tried.
   */
  pick(model: string, tried: ReadonlySet<string>): AgentSession | RelayError {
    const sessions = this.hub.list();
    if (sessions.length === 0) {
      return new RelayError('no_agents_available', 'no bridge agent is connected; try again shortly', {
        retryAfter: 5,
      });
    }
    const serving = sessions.filter((s) => s.models.has(model));
    if (serving.length === 0) {
      return new RelayError('model_not_found', `The model '${model}' is not served by any connected bridge`, {
        param: 'model',
      });
    }
    const candidates = serving.filter((s) => s.routable && !tried.has(s.id) && s.inFlight < s.maxConcurrency);
    if (candidates.length === 0) {
      const anyReady = serving.some((s) => s.routable);
      return new RelayError(
        'no_agents_available',
        anyReady
          ? `every bridge serving '${model}' is busy; try again shortly`
          : `no bridge serving '${model}' is ready; try again shortly`,
        { retryAfter: anyReady ? 1 : 5 },
      );
    }
    return this.balancer.pick(candidates);
  }

  /** Every model some connected agent advertises, sorted. */
  models(): string[] {
    const all = new Set<string>();
    for (const session of this.hub.list()) for (const model of session.models) all.add(model);
    return [...all].sort();
  }
}

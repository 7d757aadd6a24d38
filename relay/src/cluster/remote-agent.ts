/**
 * An agent connected to another relay, as this relay sees it: the last advert that relay
 * published, plus the slots this relay has reserved or opened on it since. `open` goes through
 * the Forwarder.
 */
import type { OpenRequest, RoutableAgent } from '../routing/routable-agent.js';
import type { StreamHandle, StreamHandlers } from '../tunnel/stream.js';

/** What a relay publishes about each of its agents (refreshed every heartbeat). */
export type AgentAdvert = {
  id: string;
  relayId: string;
  clientId: string;
  agentKey: string;
  models: string[];
  maxConcurrency: number;
  inFlight: number;
  ready: boolean;
  draining: boolean;
};

export type RemoteOpen = (agent: RemoteAgent, request: OpenRequest, handlers: StreamHandlers) => StreamHandle;

export class RemoteAgent implements RoutableAgent {
  models: ReadonlySet<string>;
  ttfbEwmaMs: number | undefined;
  /** Streams this relay has open on the agent (not yet in the advert). */
  private opened = 0;
  private reserved = 0;

  constructor(
    private advert: AgentAdvert,
    private readonly openRemote: RemoteOpen,
  ) {
    this.models = new Set(advert.models);
  }

  update(advert: AgentAdvert): void {
    this.advert = advert;
    this.models = new Set(advert.models);
    // The new advert counts the streams this relay opened before it was taken.
    this.opened = 0;
  }

  get id(): string {
    return this.advert.id;
  }
  get agentKey(): string {
    return this.advert.agentKey;
  }
  get clientId(): string {
    return this.advert.clientId;
  }
  get relayId(): string {
    return this.advert.relayId;
  }
  get maxConcurrency(): number {
    return this.advert.maxConcurrency;
  }
  get routable(): boolean {
    return this.advert.ready && !this.advert.draining;
  }
  private get used(): number {
    return this.advert.inFlight + this.opened + this.reserved;
  }
  get hasCapacity(): boolean {
    return this.used < this.advert.maxConcurrency;
  }
  get load(): number {
    return this.used / this.advert.maxConcurrency;
  }

  reserve(): void {
    this.reserved++;
  }

  release(): void {
    if (this.reserved > 0) this.reserved--;
  }

  recordTtfb(ms: number): void {
    this.ttfbEwmaMs = this.ttfbEwmaMs === undefined ? ms : this.ttfbEwmaMs * 0.8 + ms * 0.2;
  }

  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle {
    if (this.reserved > 0) this.reserved--;
    this.opened++;
    return this.openRemote(this, request, handlers);
  }
}

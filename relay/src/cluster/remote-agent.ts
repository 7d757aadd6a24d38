/**
 * An agent connected to another relay, as this relay sees it: the last advert that relay
 * published, plus the slots this relay has reserved or opened on it since. `open` goes through
 * the Forwarder.
 */

import type { OpenRequest, RoutableAgent } from '../routing/routable-agent.js';
import { ewma } from '../tunnel/ewma.js';
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
  /** Its relay is shutting down: the agent is moving to another (absent from older relays). */
  goingAway?: boolean;
  /** Why it is not ready (a bridge reason code), for the alerts of whichever relay sends them. */
  readyCode?: string | undefined;
  /** The update its agent did not take, and why, for the alerts (absent: none, or an older relay). */
  updateFailure?: { version: string; outcome: string; reason: string };
  /** The longest prompt its bridge takes, in characters (absent: no known limit, or an older relay). */
  promptLimitChars?: number;
  /** Its relay takes BATCH envelopes (absent: an older relay, which drops them). */
  batch?: true;
};

export type RemoteOpen = (agent: RemoteAgent, request: OpenRequest, handlers: StreamHandlers) => StreamHandle;

export class RemoteAgent implements RoutableAgent {
  models: ReadonlySet<string>;
  ttfbEwmaMs: number | undefined;
  /** Streams this relay has open on the agent right now. */
  private ours = 0;
  /** The advert's in-flight count less ours at the time it came: the other relays' share. */
  private others: number;
  private reserved = 0;
  /** Its relay said it is leaving: whatever an advert read before that says. */
  private relayLeaving = false;

  constructor(
    private advert: AgentAdvert,
    private readonly openRemote: RemoteOpen,
    /** Called when one of our streams on it ends: queued requests may go now. */
    private readonly onCapacity: () => void = () => {},
  ) {
    this.models = new Set(advert.models);
    this.others = advert.inFlight;
  }

  update(advert: AgentAdvert): void {
    this.advert = advert;
    this.models = new Set(advert.models);
    // The advert counts our streams too (as they were when it was taken): keep only the others'.
    this.others = Math.max(0, advert.inFlight - this.ours);
  }

  get id(): string {
    return this.advert.id;
  }

  /** The advert as last read (for views that are not routing: alerts). */
  get seen(): Readonly<AgentAdvert> {
    return this.advert;
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
  get promptLimitChars(): number | undefined {
    // Read from Redis unchecked: anything but a positive integer is no limit.
    const limit = this.advert.promptLimitChars;
    return Number.isSafeInteger(limit) && limit! > 0 ? limit : undefined;
  }
  get routable(): boolean {
    return this.advert.ready && !this.advert.draining && !this.relayLeaving;
  }
  get goingAway(): boolean {
    return this.relayLeaving || this.advert.goingAway === true;
  }

  /** Its relay is shutting down: route nothing new to it; it is moving to another relay. */
  markLeaving(): void {
    this.relayLeaving = true;
  }
  private get used(): number {
    return this.others + this.ours + this.reserved;
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
    this.ttfbEwmaMs = ewma(this.ttfbEwmaMs, ms);
  }

  open(request: OpenRequest, handlers: StreamHandlers): StreamHandle {
    if (this.reserved > 0) this.reserved--;
    this.ours++;
    let open = true;
    const done = () => {
      if (!open) return;
      open = false;
      this.ours--;
      this.onCapacity();
    };
    const handle = this.openRemote(this, request, {
      onHead: handlers.onHead,
      onData: handlers.onData,
      onEnd: () => {
        done();
        handlers.onEnd();
      },
      onFailure: (failure) => {
        done();
        handlers.onFailure(failure);
      },
    });
    return {
      id: handle.id,
      grant: handle.grant,
      cancel: (reason) => {
        done();
        handle.cancel(reason);
      },
    };
  }
}

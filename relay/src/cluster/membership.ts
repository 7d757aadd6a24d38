/**
 * Cluster membership in Redis: every relay heartbeats its id (a sorted set scored by time) and
 * an advert of its live agents (a key with a TTL); every relay reads the others' adverts. A relay
 * that stops heartbeating drops out after `3 × interval` (default 6 s). When Redis cannot be
 * reached the remote view goes stale and is emptied after the same period: each relay then
 * serves its own agents alone.
 *
 * A relay shutting down leaves in two steps. `leave()` at once: its agents are advertised as going
 * away (peers route nothing new to them and wait for them on their next relay), while its heartbeat
 * goes on, because a relay that vanished has its forwarded streams failed by the others and these
 * must finish. `close()` once they have: it removes its entries and stops heartbeating.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentSession } from '../tunnel/agent-session.js';
import { type AgentAdvert, RemoteAgent, type RemoteOpen } from './remote-agent.js';

export type MembershipOptions = {
  redis: Redis;
  prefix: string;
  relayId: string;
  /** Heartbeat period, in ms. */
  intervalMs: number;
  local: () => AgentSession[];
  openRemote: RemoteOpen;
  logger: Logger;
  /** False: the adverts leave out `batch` (as a relay of the release before BATCH did). */
  batch?: boolean;
};

export interface MembershipEvents {
  /** The remote view changed (agents, load, readiness). */
  change: [];
  /** A relay stopped heartbeating (or said goodbye). */
  /** A relay stopped heartbeating; `saidLeaving`: it had announced its shutdown first. */
  'relay-gone': [relayId: string, saidLeaving: boolean];
}

export class Membership extends EventEmitter<MembershipEvents> {
  /** False while Redis cannot be reached. */
  healthy = true;
  private readonly remote = new Map<string, RemoteAgent>();
  private liveRelays = new Set<string>();
  /** Relays that said they are leaving: their agents are going away, whatever adverts say. */
  private readonly leavingRelays = new Set<string>();
  private lastOk = Date.now();
  private timer: NodeJS.Timeout | undefined;
  /** The round being run, and the one queued behind it (asked for while the first had read its view). */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private leaving = false;
  private closed = false;
  private lastTickAt = 0;
  private readonly ttlMs: number;
  private readonly keys: { relays: string; agents: (relayId: string) => string };

  constructor(private readonly options: MembershipOptions) {
    super();
    this.ttlMs = options.intervalMs * 3;
    this.keys = {
      relays: `${options.prefix}cluster:relays`,
      agents: (relayId) => `${options.prefix}cluster:agents:${relayId}`,
    };
  }

  /** Publishes at once, then every interval. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Agents on other relays, as last seen. */
  agents(): RemoteAgent[] {
    return [...this.remote.values()];
  }

  /** Relays (other than this one) seen alive at the last heartbeat. */
  relays(): string[] {
    return [...this.liveRelays];
  }

  /**
   * Drops a relay's agents from the view at once (its channel has no listener: it died between
   * heartbeats). A relay that is in fact alive comes back with its next advert.
   */
  forget(relayId: string): void {
    let changed = false;
    for (const [id, agent] of this.remote) {
      if (agent.relayId !== relayId) continue;
      this.remote.delete(id);
      changed = true;
    }
    if (changed) this.emit('change');
  }

  /**
   * Relay `relayId` said it is shutting down: its agents take no new stream from now on (they are
   * moving to other relays), even if an advert read before it says otherwise.
   */
  relayLeaving(relayId: string): void {
    this.leavingRelays.add(relayId);
    for (const agent of this.remote.values()) if (agent.relayId === relayId) agent.markLeaving();
    this.emit('change');
  }

  /**
   * Re-publishes this relay's agents now (an agent joined, left, or changed readiness) and reads
   * the others'. Resolves once a round that began after the call is over; never rejects.
   */
  publishSoon(): Promise<void> {
    return this.tick();
  }

  /**
   * Starts leaving: this relay's agents are advertised as going away from now on (published at
   * once), and the other relays stop sending it new streams. Heartbeats go on until `close()`.
   */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.tick();
  }

  /** Leaves the cluster: stops heartbeating and removes this relay's entries. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    try {
      await this.options.redis
        .multi()
        .zrem(this.keys.relays, this.options.relayId)
        .del(this.keys.agents(this.options.relayId))
        .exec();
    } catch {
      // Redis is gone: the entries expire by themselves.
    }
  }

  private advertise(): AgentAdvert[] {
    return this.options.local().map((s) => ({
      id: s.id,
      relayId: this.options.relayId,
      clientId: s.client.id,
      agentKey: s.agentKey,
      models: [...s.models],
      // What this socket may carry: the agent shares its whole among its relays.
      maxConcurrency: s.slots,
      inFlight: s.inFlight,
      ready: s.ready,
      draining: s.draining || this.leaving,
      goingAway: s.goingAway || this.leaving,
      ...(s.ready || !s.readyCode ? {} : { readyCode: s.readyCode }),
      ...(s.updateFailure ? { updateFailure: s.updateFailure } : {}),
      promptLimitChars: s.promptLimitChars,
      ...(this.options.batch === false ? {} : { batch: true as const }),
    }));
  }

  private tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // The round under way advertised what it saw when it began: one more after it.
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.tick();
    });
    return this.queued;
  }

  private async round(): Promise<void> {
    const { redis, relayId } = this.options;
    const now = Date.now();
    // When this relay's own event loop stalled, the others' heartbeats only look old: judge
    // nobody dead on this round's evidence.
    const stalled = this.lastTickAt > 0 && now - this.lastTickAt > 2 * this.options.intervalMs;
    this.lastTickAt = now;
    try {
      const results = await redis
        .multi()
        .zadd(this.keys.relays, now, relayId)
        .set(this.keys.agents(relayId), JSON.stringify(this.advertise()), 'PX', this.ttlMs)
        .zremrangebyscore(this.keys.relays, '-inf', now - this.ttlMs)
        .zrangebyscore(this.keys.relays, now - this.ttlMs, '+inf')
        .exec();
      const live = ((results?.[3]?.[1] as string[] | undefined) ?? []).filter((id) => id !== relayId);
      const adverts = live.length ? await redis.mget(live.map((id) => this.keys.agents(id))) : [];
      this.apply(live, adverts, stalled);
      this.lastOk = Date.now();
      if (!this.healthy) this.options.logger.info('cluster membership restored');
      this.healthy = true;
    } catch (error) {
      if (this.healthy)
        this.options.logger.warn({ err: (error as Error).message }, 'cluster heartbeat failed');
      this.healthy = false;
      // Without Redis the remote view cannot be trusted for long: forget it after the TTL.
      if (Date.now() - this.lastOk > this.ttlMs && (this.remote.size > 0 || this.liveRelays.size > 0)) {
        this.apply([], []);
      }
    }
  }

  private apply(live: string[], adverts: Array<string | null>, stalled = false): void {
    const seen = new Set<string>();
    live.forEach((_id, i) => {
      const raw = adverts[i];
      if (!raw) return;
      let list: AgentAdvert[];
      try {
        list = JSON.parse(raw) as AgentAdvert[];
      } catch {
        return;
      }
      for (const advert of list) {
        seen.add(advert.id);
        let agent = this.remote.get(advert.id);
        if (agent) agent.update(advert);
        else {
          agent = new RemoteAgent(advert, this.options.openRemote, () => this.emit('change'));
          this.remote.set(advert.id, agent);
        }
        if (this.leavingRelays.has(advert.relayId)) agent.markLeaving();
      }
    });
    const now = new Set(live);
    if (stalled) {
      // Keep what we knew of relays that seem to have vanished until a timely round confirms it.
      for (const id of this.liveRelays) now.add(id);
    } else {
      for (const id of this.remote.keys()) if (!seen.has(id)) this.remote.delete(id);
      for (const id of this.liveRelays)
        if (!now.has(id)) this.emit('relay-gone', id, this.leavingRelays.has(id));
      for (const id of this.leavingRelays) if (!now.has(id)) this.leavingRelays.delete(id);
    }
    this.liveRelays = now;
    this.emit('change');
  }
}

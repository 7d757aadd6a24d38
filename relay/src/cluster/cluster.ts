/**
 * The cluster: this relay's place among relays sharing one Redis. Membership (who is alive,
 * which agents they hold), forwarding (streams to agents on other relays), and broadcast events
 * (a client's sockets must close everywhere; keys changed: drop cached lookups).
 */

import { EventEmitter } from 'node:events';
import { parseJsonAs } from '@arena-relay/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RelayConfig } from '../config/load-config.js';
import type { RoutableAgent } from '../routing/routable-agent.js';
import type { StickyStore } from '../routing/sticky.js';
import type { RedisConnections, RedisState } from '../store/redis-connection.js';
import type { AgentHub, TokenRetire } from '../tunnel/agent-hub.js';
import { Forwarder } from './forwarder.js';
import { Membership } from './membership.js';
import { PeerQuery } from './peer-query.js';
import { redisSticky } from './sticky-redis.js';

const clusterEvent = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('close-client'),
    from: z.string(),
    clientId: z.string(),
    reason: z.string(),
    // A token replaced with a grace: only sockets holding an older token close, at `at`.
    retire: z.object({ currentTokenHash: z.string().max(128), at: z.number() }).optional(),
  }),
  z.object({ t: z.literal('keys-changed'), from: z.string() }),
  // A relay's agents changed (joined, left, going away): read the adverts now, not at the next beat.
  z.object({ t: z.literal('adverts'), from: z.string() }),
  // A relay is shutting down: route nothing new to its agents from now on (they are moving).
  z.object({ t: z.literal('leaving'), from: z.string() }),
]);
type ClusterEvent = z.infer<typeof clusterEvent>;

export type ClusterOptions = {
  config: RelayConfig;
  /** The relay's Redis connection factory (single node or Sentinel). */
  redis: RedisConnections;
  hub: AgentHub;
  relayId: string;
  logger: Logger;
  /** Another relay changed keys: drop cached key lookups. */
  onKeysChanged(): void;
  /** False: act as a relay of the release before BATCH envelopes (tests of a rolling upgrade). */
  batch?: boolean;
};

export class Cluster extends EventEmitter<{ change: [] }> {
  readonly membership: Membership;
  readonly forwarder: Forwarder;
  readonly sticky: StickyStore;
  /** Conversation pins (routing/conversation.ts), apart from named sessions. */
  readonly affinity: StickyStore;
  /** Questions to the other relays (cluster-wide admin views). */
  readonly peers: PeerQuery;
  /** Membership, events, sticky pins: never stuck behind stream data. */
  private readonly control: Redis;
  /** Forwarded stream messages. */
  private readonly data: Redis;
  private readonly sub: Redis;
  private readonly eventsChannel: string;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ClusterOptions) {
    super();
    const { config, hub, relayId, logger } = options;
    // Commands are not queued while disconnected: a dead Redis makes cluster calls fail fast
    // instead of hanging requests. Heartbeats on their own connection: queued behind megabytes
    // of forwarded data they would arrive late, and a busy relay would look dead to the others.
    const tuning = { offlineQueue: false };
    this.control = options.redis.create('cluster', tuning);
    this.data = options.redis.create('cluster-data', tuning);
    this.sub = options.redis.create('cluster-sub', tuning);
    this.eventsChannel = `${config.redisPrefix}cluster:events`;
    this.sticky = redisSticky(this.control, `${config.redisPrefix}sticky:`);
    this.affinity = redisSticky(this.control, `${config.redisPrefix}affinity:`);
    this.forwarder = new Forwarder({
      pub: this.data,
      sub: this.sub,
      prefix: config.redisPrefix,
      relayId,
      hub,
      logger,
      onRelayUnreachable: (id) => this.membership.forget(id),
      batch: options.batch,
    });
    this.peers = new PeerQuery({
      pub: this.control,
      sub: this.sub,
      prefix: config.redisPrefix,
      relayId,
      timeoutMs: config.clusterQueryTimeoutMs,
      logger,
    });
    this.membership = new Membership({
      redis: this.control,
      prefix: config.redisPrefix,
      relayId,
      intervalMs: config.clusterHeartbeatMs,
      local: () => hub.list(),
      openRemote: (agent, request, handlers) => this.forwarder.open(agent, request, handlers),
      logger,
      batch: options.batch,
    });
    this.membership.on('relay-gone', (id) => {
      logger.warn({ relay: id }, 'relay left the cluster');
      this.forwarder.relayGone(id);
    });
    this.membership.on('change', () => this.emit('change'));
    // Agents joining or leaving are published without waiting a heartbeat, and the other relays
    // told to look: an agent moving here from a relay going away must be seen at once.
    hub.on('session', () => this.advertsChanged());
    hub.on('session-closed', () => this.advertsChanged());
  }

  /** Connects, subscribes and publishes this relay. Fails when Redis cannot be reached. */
  async start(): Promise<void> {
    await Promise.all([this.control.connect(), this.data.connect(), this.sub.connect()]);
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.eventsChannel) this.onEvent(message.toString('utf8'));
    });
    await this.sub.subscribe(this.eventsChannel);
    await this.forwarder.start();
    await this.peers.start();
    await this.membership.start();
  }

  /** Agents connected to the other relays. */
  remoteAgents(): RoutableAgent[] {
    return this.membership.agents();
  }

  get healthy(): boolean {
    return this.membership.healthy && [this.control, this.data, this.sub].every((r) => r.status === 'ready');
  }

  /** How each of this relay's Redis connections is doing (`GET /api/relays`). */
  redisState(): RedisState {
    return this.options.redis.state();
  }

  /** Closes a client's sockets on this relay and tells the others to do the same. Returns local count. */
  closeClient(clientId: string, reason: string, retire?: TokenRetire): number {
    void this.broadcast({ t: 'close-client', from: this.options.relayId, clientId, reason, retire });
    return this.options.hub.closeClient(clientId, reason, retire);
  }

  keysChanged(): void {
    void this.broadcast({ t: 'keys-changed', from: this.options.relayId });
  }

  /**
   * This relay is shutting down: its agents are advertised as going away and the other relays
   * told at once, so they send it no new stream. Streams forwarded either way run on.
   */
  async leave(): Promise<void> {
    // Told first, in one publish: every round trip before it is a window for forwarded opens.
    await this.broadcast({ t: 'leaving', from: this.options.relayId });
    await this.membership.leave();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.forwarder.close();
      this.peers.close();
      await this.membership.close();
      await this.broadcast({ t: 'adverts', from: this.options.relayId });
      this.control.disconnect();
      this.data.disconnect();
      this.sub.disconnect();
    })();
    return this.closing;
  }

  private advertsChanged(): void {
    void this.membership.publishSoon().then(async () => {
      // Closing announces its own departure once its entries are gone.
      if (!this.closing) await this.broadcast({ t: 'adverts', from: this.options.relayId });
    });
  }

  private async broadcast(event: ClusterEvent): Promise<void> {
    try {
      await this.control.publish(this.eventsChannel, JSON.stringify(event));
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message, event: event.t }, 'cluster broadcast failed');
    }
  }

  private onEvent(text: string): void {
    const event = parseJsonAs(clusterEvent, text);
    if (!event || event.from === this.options.relayId) return;
    if (event.t === 'close-client') this.options.hub.closeClient(event.clientId, event.reason, event.retire);
    else if (event.t === 'adverts') void this.membership.publishSoon();
    else if (event.t === 'leaving') this.membership.relayLeaving(event.from);
    else this.options.onKeysChanged();
  }
}

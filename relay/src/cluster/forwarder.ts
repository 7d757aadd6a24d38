/**
 * Cross-relay streams over Redis pub/sub. The origin relay (holding the consumer) publishes
 * OPEN to the relay holding the agent; that relay opens a local stream and publishes ACK, HEAD,
 * DATA…, END or ERROR back. Credit flows back the same way, so flow control is end to end: the
 * agent sends no more than the consumer's relay granted, whatever Redis buffers in between.
 * A relay that disappears fails (origin side) or cancels (agent side) its forwarded streams.
 * Everything but OPEN leaves through the Outbox: one PUBLISH per relay per event-loop turn, to a
 * relay that said it takes BATCH (its agent's advert, or its OPEN, says `batch`).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OpenRequest } from '../routing/routable-agent.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { requestBytes } from '../tunnel/open-encoder.js';
import type { StreamFailure, StreamHandle, StreamHandlers } from '../tunnel/stream.js';
import {
  type ControlMessage,
  type Decoded,
  decode,
  decodeBatch,
  encodeControl,
  encodeOpen,
  Kind,
  requestHead,
} from './envelope.js';
import { InboundStreams } from './inbound-streams.js';
import { Outbox } from './outbox.js';
import type { RemoteAgent } from './remote-agent.js';

export type ForwarderOptions = {
  pub: Redis;
  sub: Redis;
  prefix: string;
  relayId: string;
  hub: AgentHub;
  logger: Logger;
  /** How long the agent's relay may take to acknowledge an OPEN, in ms (default 3 000). */
  ackTimeoutMs?: number;
  /** Nobody listens on a relay's channel: it is dead, whatever its last heartbeat says. */
  onRelayUnreachable?(relayId: string): void;
  /** False: act as a relay of the release before BATCH (never says it takes them, drops them). */
  batch?: boolean;
};

type Outbound = {
  ref: number;
  target: string;
  handlers: StreamHandlers;
  acked: boolean;
  ackTimer: NodeJS.Timeout | undefined;
};

export class Forwarder {
  private readonly outbound = new Map<number, Outbound>();
  private readonly inbound: InboundStreams;
  private nextRef = 1;
  private readonly channel: string;
  /** What every OPEN of this relay says of it: it takes BATCH back. */
  private readonly says: { batch?: true };
  /** Messages other than OPEN, gathered per relay per turn (best effort: a failed publish is dropped). */
  private readonly outbox: Outbox;

  constructor(private readonly options: ForwarderOptions) {
    this.channel = this.channelOf(options.relayId);
    this.says = options.batch === false ? {} : { batch: true };
    this.outbox = new Outbox((relayId, message) => {
      this.publish(relayId, message).catch(() => undefined);
    }, options.batch !== false);
    this.inbound = new InboundStreams(
      options.hub,
      (relayId, message) => this.outbox.send(relayId, message),
      (relayId, ref, payload) => this.outbox.sendData(relayId, ref, payload),
    );
  }

  async start(): Promise<void> {
    this.options.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.channel) this.onMessage(message);
    });
    await this.options.sub.subscribe(this.channel);
  }

  /** Streams forwarded from or to other relays, for stats. */
  get size(): { outbound: number; inbound: number } {
    return { outbound: this.outbound.size, inbound: this.inbound.size };
  }

  /** Origin side: opens a stream on an agent of another relay. */
  open(agent: RemoteAgent, request: OpenRequest, handlers: StreamHandlers): StreamHandle {
    const ref = this.nextRef;
    this.nextRef = this.nextRef >= 0xffff_fffe ? 1 : this.nextRef + 1;
    const stream: Outbound = { ref, target: agent.relayId, handlers, acked: false, ackTimer: undefined };
    this.outbound.set(ref, stream);
    if (agent.seen.batch === true) this.outbox.takesBatch(agent.relayId);
    stream.ackTimer = setTimeout(
      () => this.failOutbound(ref, { code: 'agent_gone', message: `relay ${agent.relayId} did not answer` }),
      this.options.ackTimeoutMs ?? 3000,
    );
    this.publish(
      agent.relayId,
      // The body goes as the bytes the consumer sent, after the envelope's JSON head (with a
      // rerouted model written in: the envelope does not say `rerouted`, so a relay of an older
      // release on the other end passes the body on as the bridge must read it).
      encodeOpen(
        { from: this.options.relayId, ref, session: agent.id, request: requestHead(request), ...this.says },
        requestBytes(request),
      ),
      true,
    ).catch((error: unknown) => {
      this.options.onRelayUnreachable?.(agent.relayId);
      this.failOutbound(ref, {
        code: 'agent_gone',
        message: `cannot reach relay ${agent.relayId}: ${String(error)}`,
      });
    });
    return {
      id: ref,
      cancel: (reason) => {
        if (!this.dropOutbound(ref)) return;
        // Best effort: the other relay cancels by itself when this one disappears.
        this.outbox.send(
          agent.relayId,
          encodeControl(Kind.CANCEL, { from: this.options.relayId, ref, reason }),
        );
      },
      grant: (bytes) => {
        if (!this.outbound.has(ref) || bytes <= 0) return;
        this.outbox.send(
          agent.relayId,
          encodeControl(Kind.CREDIT, { from: this.options.relayId, ref, bytes }),
        );
      },
    };
  }

  /** A relay left the cluster: fail what we forwarded to it, cancel what it forwarded to us. */
  relayGone(relayId: string): void {
    for (const stream of [...this.outbound.values()]) {
      if (stream.target === relayId) {
        this.failOutbound(stream.ref, {
          code: 'agent_gone',
          message: `relay ${relayId} holding the agent is gone`,
        });
        // If it was only late, not dead, it must not keep the agent's slot for a stream nobody reads.
        this.outbox.send(
          relayId,
          encodeControl(Kind.CANCEL, {
            from: this.options.relayId,
            ref: stream.ref,
            reason: 'relay considered gone',
          }),
        );
      }
    }
    this.inbound.relayGone(relayId);
    this.outbox.forget(relayId);
  }

  /** Fails every outbound stream and cancels every inbound one (this relay is closing). */
  close(): void {
    for (const ref of [...this.outbound.keys()]) {
      this.failOutbound(ref, { code: 'agent_gone', message: 'relay shutting down' });
    }
    this.inbound.close();
    this.outbox.flush();
  }

  private channelOf(relayId: string): string {
    return `${this.options.prefix}cluster:fwd:${relayId}`;
  }

  /** Publishes to a relay's channel; with `mustArrive`, rejects when nobody listens there. */
  private async publish(relayId: string, message: Buffer, mustArrive = false): Promise<void> {
    const receivers = await this.options.pub.publish(this.channelOf(relayId), message);
    if (mustArrive && receivers === 0) throw new Error('no relay listening');
  }

  private onMessage(message: Buffer): void {
    if (message[0] === Kind.BATCH && this.options.batch !== false) {
      const members = decodeBatch(message);
      if (!members) return this.options.logger.warn('dropped a malformed cluster batch');
      for (const member of members) this.dispatch(member);
      return;
    }
    const decoded = decode(message);
    if (!decoded) return this.options.logger.warn('dropped a malformed cluster message');
    this.dispatch(decoded);
  }

  private dispatch(decoded: Decoded): void {
    if (decoded.kind === Kind.DATA) {
      // Hot path of a forwarded stream: straight to the consumer's exchange.
      this.outbound.get(decoded.ref)?.handlers.onData(decoded.payload);
      return;
    }
    if (decoded.kind === Kind.OPEN) {
      if (decoded.body.batch) this.outbox.takesBatch(decoded.body.from);
      return this.inbound.open(decoded.body, decoded.bytes);
    }
    this.onControl(decoded);
  }

  private onControl(message: ControlMessage): void {
    switch (message.kind) {
      case Kind.CANCEL:
        return this.inbound.cancel(message.body.from, message.body.ref, message.body.reason);
      case Kind.CREDIT:
        return this.inbound.grant(message.body.from, message.body.ref, message.body.bytes);
      case Kind.ACK: {
        const stream = this.outbound.get(message.body.ref);
        if (!stream) return;
        stream.acked = true;
        clearTimeout(stream.ackTimer);
        return;
      }
      case Kind.HEAD: {
        const stream = this.outbound.get(message.body.ref);
        if (stream) clearTimeout(stream.ackTimer);
        return stream?.handlers.onHead(message.body.status, message.body.headers);
      }
      case Kind.END: {
        const stream = this.outbound.get(message.body.ref);
        if (!this.dropOutbound(message.body.ref)) return;
        return stream?.handlers.onEnd();
      }
      case Kind.ERROR: {
        const { ref, code, message: text, status } = message.body;
        return this.failOutbound(
          ref,
          status === undefined ? { code, message: text } : { code, message: text, status },
        );
      }
    }
  }

  private dropOutbound(ref: number): boolean {
    const stream = this.outbound.get(ref);
    if (!stream) return false;
    clearTimeout(stream.ackTimer);
    this.outbound.delete(ref);
    return true;
  }

  private failOutbound(ref: number, failure: StreamFailure): void {
    const stream = this.outbound.get(ref);
    if (!this.dropOutbound(ref)) return;
    stream?.handlers.onFailure(failure);
  }
}

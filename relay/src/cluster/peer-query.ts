/**
 * Request and answer between cluster members, for the operator views that span the cluster
 * (`/api/agents`, `/api/relays`, drain and kick of an agent on another relay…). Over Redis
 * pub/sub like forwarded streams: each relay listens on `<prefix>cluster:query:<relayId>`; an
 * ASK carries an id and the asker's relay id, the ANSWER goes back on the asker's channel with the
 * same id. A relay nobody listens for (PUBLISH reaches 0 subscribers: it died without leaving) is
 * unreachable at once; one that does not answer within the bound is unreachable too, never waited
 * for. Answers are JSON: small, and off the stream path.
 */
import { parseJsonAs, truncateChars } from '@arena-relay/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';

/** Why a member gave no answer: no listener, no answer in time, or its handler failed. */
export type PeerFailure = 'unreachable' | 'timeout' | 'failed';

export type PeerAnswer<T> =
  | { relay: string; ok: true; value: T }
  | { relay: string; ok: false; error: PeerFailure; message: string };

/** Answers one kind of question from another relay. Thrown errors become a `failed` answer. */
export type PeerHandler = (args: unknown) => unknown;

export type PeerQueryOptions = {
  /** Publishes questions and answers (a connection not in subscriber mode). */
  pub: Redis;
  /** Subscribes to this relay's query channel (may be shared with other subscribers). */
  sub: Redis;
  prefix: string;
  relayId: string;
  /** Default bound on an answer, ms. */
  timeoutMs: number;
  logger?: Logger;
};

/** A failure message a peer chose is cut before it reaches a response. */
const MAX_MESSAGE_CHARS = 300;

const wire = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('ask'),
    id: z.string().max(64),
    from: z.string().max(128),
    kind: z.string().max(64),
    args: z.unknown(),
  }),
  z.object({
    t: z.literal('answer'),
    id: z.string().max(64),
    from: z.string().max(128),
    ok: z.boolean(),
    value: z.unknown().optional(),
    message: z.string().optional(),
  }),
]);

type Pending = { relay: string; settle(answer: PeerAnswer<unknown>): void; timer: NodeJS.Timeout };

export class PeerQuery {
  private readonly handlers = new Map<string, PeerHandler>();
  private readonly pending = new Map<string, Pending>();
  private readonly channel: string;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PeerQueryOptions) {
    this.channel = this.channelOf(options.relayId);
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** Answers questions of `kind` from other relays with `handler`. */
  serve(kind: string, handler: PeerHandler): void {
    this.handlers.set(kind, handler);
  }

  async start(): Promise<void> {
    this.options.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.channel) this.onMessage(message.toString('utf8'));
    });
    await this.options.sub.subscribe(this.channel);
  }

  /** Asks every relay in `relays` at once; one answer per relay, in the same order, within the bound. */
  ask<T>(relays: string[], kind: string, args: unknown = null, timeoutMs?: number): Promise<PeerAnswer<T>[]> {
    return Promise.all(relays.map((relay) => this.askOne<T>(relay, kind, args, timeoutMs)));
  }

  /** Asks one relay; never rejects (a missing answer is a failed PeerAnswer). */
  askOne<T>(relay: string, kind: string, args: unknown = null, timeoutMs?: number): Promise<PeerAnswer<T>> {
    if (this.closed) return Promise.resolve(failure(relay, 'unreachable', 'this relay is shutting down'));
    const id = `${this.nextId++}`;
    const bound = timeoutMs ?? this.options.timeoutMs;
    return new Promise<PeerAnswer<T>>((resolve) => {
      const settle = (answer: PeerAnswer<unknown>) => {
        const entry = this.pending.get(id);
        if (!entry) return;
        clearTimeout(entry.timer);
        this.pending.delete(id);
        resolve(answer as PeerAnswer<T>);
      };
      const timer = setTimeout(
        () => settle(failure(relay, 'timeout', `no answer within ${bound} ms`)),
        bound,
      );
      this.pending.set(id, { relay, settle, timer });
      const question = JSON.stringify({ t: 'ask', id, from: this.options.relayId, kind, args });
      this.options.pub.publish(this.channelOf(relay), question).then(
        (receivers) => {
          if (receivers === 0) settle(failure(relay, 'unreachable', 'no relay listening'));
        },
        (error: unknown) => settle(failure(relay, 'unreachable', `redis: ${(error as Error).message}`)),
      );
    });
  }

  /** Stops answering; questions still waiting resolve as unreachable. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.pending.values()]) {
      entry.settle(failure(entry.relay, 'unreachable', 'this relay is shutting down'));
    }
  }

  private channelOf(relayId: string): string {
    return `${this.options.prefix}cluster:query:${relayId}`;
  }

  private onMessage(text: string): void {
    const message = parseJsonAs(wire, text);
    if (!message) return this.options.logger?.warn('dropped a malformed cluster query');
    if (message.t === 'answer') {
      const entry = this.pending.get(message.id);
      // Only the relay asked may answer (ids are per asker, so a stray answer is ignored).
      if (!entry || entry.relay !== message.from) return;
      entry.settle(
        message.ok
          ? { relay: message.from, ok: true, value: message.value ?? null }
          : failure(message.from, 'failed', message.message ?? 'failed'),
      );
      return;
    }
    void this.answer(message.id, message.from, message.kind, message.args);
  }

  private async answer(id: string, to: string, kind: string, args: unknown): Promise<void> {
    if (this.closed) return;
    const handler = this.handlers.get(kind);
    let reply: object;
    try {
      if (!handler) throw new Error(`unknown query '${truncateChars(kind, 64)}'`);
      reply = { t: 'answer', id, from: this.options.relayId, ok: true, value: (await handler(args)) ?? null };
    } catch (error) {
      reply = { t: 'answer', id, from: this.options.relayId, ok: false, message: (error as Error).message };
    }
    try {
      await this.options.pub.publish(this.channelOf(to), JSON.stringify(reply));
    } catch (error) {
      this.options.logger?.warn({ err: (error as Error).message, to }, 'cluster query answer not sent');
    }
  }
}

function failure(relay: string, error: PeerFailure, message: string): PeerAnswer<never> {
  return { relay, ok: false, error, message: truncateChars(message, MAX_MESSAGE_CHARS) };
}

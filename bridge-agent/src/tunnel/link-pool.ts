/**
 * The agent's sockets to several relays at once: `connections` links, each to a different relay
 * address, each with its own heartbeat, backoff and session. A link whose relay says `goaway` is
 * retired (no reconnect; its streams in flight run on until the relay closes it) and a new link
 * dials another relay at once, so the agent is never without a socket during a relay's restart.
 */
import { EventEmitter } from 'node:events';
import type { HelloFrame, WelcomeFrame } from '@arena-relay/shared';
import { type LinkOptions, RelayLink } from './relay-link.js';
import type { FatalLinkError } from './relay-refusal.js';
import type { SessionChannel } from './relay-stream.js';

/** How long past the relay's announced grace a going-away socket is kept before the agent closes it. */
export const GOAWAY_SLACK_MS = 5_000;

export type PoolOptions = Omit<LinkOptions, 'id' | 'hello' | 'pickUrl'> & {
  /** Sockets held at once (capped by the number of addresses). */
  connections: number;
  /** Builds the `hello` of a dial of link `link`. */
  hello: (link: number) => HelloFrame;
};

type PoolEvents = {
  connected: [link: number, welcome: WelcomeFrame, channel: SessionChannel];
  /** A welcomed session of `link` ended. */
  disconnected: [link: number, reason: string];
  /** A socket of `link` closed, welcomed or not (what it was promised in `hello` is free again). */
  closed: [link: number];
  fatal: [error: FatalLinkError];
};

/** One connection as `/platform/status` shows it. */
export type LinkStatus = {
  link: number;
  relay_url: string;
  relay_id: string | null;
  connected: boolean;
  session_id: string | null;
  last_heartbeat: string | null;
  reconnects: number;
  /** The relay said goaway: this socket only finishes its streams. */
  going_away: boolean;
};

type Entry = { id: number; link: RelayLink; retiring: boolean };

export class LinkPool extends EventEmitter<PoolEvents> {
  readonly #options: PoolOptions;
  readonly #entries = new Map<number, Entry>();
  readonly #wanted: number;
  #nextId = 1;
  #stopped = false;
  #fatal = false;

  constructor(options: PoolOptions) {
    super();
    this.#options = options;
    this.#wanted = Math.max(1, Math.min(options.connections, new Set(options.urls).size));
  }

  /** Sockets the pool keeps (connections capped by the number of addresses). */
  get wanted(): number {
    return this.#wanted;
  }

  start(): void {
    while (!this.#stopped && this.#active().length < this.#wanted) this.#spawn();
  }

  /** Every link, going-away ones included, in the order they were made. */
  status(): LinkStatus[] {
    return [...this.#entries.values()].map(({ id, link, retiring }) => ({
      link: id,
      relay_url: link.url,
      relay_id: link.session?.relayId ?? null,
      connected: link.session !== undefined,
      session_id: link.session?.sessionId ?? null,
      last_heartbeat: link.lastHeartbeat?.toISOString() ?? null,
      reconnects: link.reconnects,
      going_away: retiring,
    }));
  }

  /**
   * The relay of `link` is going away: stop reconnecting it, close it ourselves if the relay has
   * not within `graceMs` (plus slack), and dial a replacement now.
   */
  goAway(link: number, graceMs: number): void {
    const entry = this.#entries.get(link);
    if (!entry || entry.retiring) return;
    entry.retiring = true;
    entry.link.retire(graceMs + GOAWAY_SLACK_MS);
    if (!entry.link.active) this.#entries.delete(link);
    if (this.#stopped || this.#active().length >= this.#wanted) return;
    if (!this.#hasFreeAddress() && this.#active().length > 0) {
      // Every address is held: the others by live links, this one by the relay going away. A
      // second socket to a relay already held is no gain (and an older agent's relay would take
      // it for the same agent reconnecting); the live links serve, and this address is dialled
      // again once its relay has closed the going-away socket (#spawn's `closed` handler).
      this.#options.logger.info(
        { link, relay: entry.link.url, graceMs },
        'relay going away: no other relay to dial',
      );
      return;
    }
    this.#options.logger.info({ link, relay: entry.link.url, graceMs }, 'relay going away: dialling another');
    // The replacement takes over the going-away link's place, its dials counted on.
    this.#spawn().reconnects = entry.link.reconnects + 1;
    this.start();
  }

  /** Stops every link and closes its socket. Idempotent. */
  async close(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#entries.values()].map(({ link }) => link.close()));
  }

  #active(): Entry[] {
    return [...this.#entries.values()].filter((entry) => !entry.retiring);
  }

  #spawn(): RelayLink {
    const id = this.#nextId++;
    const link = new RelayLink({
      ...this.#options,
      id,
      logger: this.#options.logger.child({ link: id }),
      hello: () => this.#options.hello(id),
      pickUrl: (previous) => this.#pick(id, previous),
    });
    const entry: Entry = { id, link, retiring: false };
    this.#entries.set(id, entry);
    link.on('connected', (welcome, channel) => this.emit('connected', id, welcome, channel));
    link.on('disconnected', (reason) => {
      this.emit('disconnected', id, reason);
      if (entry.retiring) this.#entries.delete(id);
    });
    link.on('closed', () => {
      this.emit('closed', id);
      if (!entry.retiring) return;
      this.#entries.delete(id);
      // A going-away relay closed its socket: its address is free for a link it still lacks
      // (goAway dialled none while every address was held).
      if (!this.#fatal) this.start();
    });
    link.on('fatal', (error) => {
      // A refused token or protocol is the same answer from every relay: report it once.
      if (this.#fatal) return;
      this.#fatal = true;
      this.emit('fatal', error);
    });
    link.start();
    return link;
  }

  /** Whether some address has no socket at all, going-away ones included. */
  #hasFreeAddress(): boolean {
    const held = new Set([...this.#entries.values()].filter((e) => e.link.active).map((e) => e.link.url));
    return this.#options.urls.some((url) => !held.has(url));
  }

  /**
   * The address for the next dial of link `id`, the first in turn after `previous` that no other
   * link holds; failing that, one held only by a going-away socket (its relay refuses until its
   * successor runs, or a balancer behind it sends the dial elsewhere); never, while there is
   * another, one that a live link already holds (no second socket to a relay the agent has).
   */
  #pick(id: number, previous: string | undefined): string {
    const urls = this.#options.urls;
    const start = previous === undefined ? 0 : urls.indexOf(previous) + 1;
    const inTurn = urls.map((_, i) => urls[(start + i) % urls.length]!);
    const others = [...this.#entries.values()].filter((entry) => entry.id !== id && entry.link.active);
    const held = new Set(others.map((entry) => entry.link.url));
    const live = new Set(others.filter((entry) => !entry.retiring).map((entry) => entry.link.url));
    return inTurn.find((url) => !held.has(url)) ?? inTurn.find((url) => !live.has(url)) ?? inTurn[0]!;
  }
}

/**
 * Shares the agent's `max_concurrency` among its sockets to several relays, so that together the
 * relays never open more streams than the bridge may serve. Each socket holds a share; a relay
 * only opens streams within the share it was told (`hello.slots`, then `capacity` frames).
 *
 * A relay may act on an old share until it has read a new one: a raised share is in force at
 * once (the relay can only use more once told), a lowered one only when the relay echoes its
 * `capacity` frame (opens sent before the echo arrive before it). So a socket holds
 * `max(in flight, every share the relay may still believe)`, and the sum of what all sockets hold
 * never exceeds the total: a socket's share grows only into slots nobody else holds.
 */

/** A `capacity` frame to send on one socket. */
export type ShareUpdate = { link: number; seq: number; slots: number };

type Share = {
  /** Streams the agent is serving on this socket. */
  inFlight: number;
  /** The last share the relay confirmed (or got in `hello`). */
  acked: number;
  /** Shares sent and not yet echoed, oldest first. */
  pending: { seq: number; slots: number }[];
  nextSeq: number;
  /** Welcomed: `capacity` frames may go out. */
  live: boolean;
  /** The relay is going away: it opens nothing more here, so the socket gets no share. */
  retiring: boolean;
};

const NO_UPDATES: readonly ShareUpdate[] = Object.freeze([]);

export class SlotShares {
  #total: number;
  /** By link id, in the order the links joined. */
  readonly #shares = new Map<number, Share>();

  /** `total`: the agent's max_concurrency. */
  constructor(total: number) {
    this.#total = total;
  }

  get total(): number {
    return this.#total;
  }

  /** max_concurrency changed (a pushed setting): `rebalance` then tells each socket its new share. */
  setTotal(total: number): void {
    this.#total = total;
  }

  /** What a socket holds: its streams, or a share its relay may still act on, whichever is more. */
  held(link: number): number {
    const share = this.#shares.get(link);
    if (!share) return 0;
    return Math.max(share.inFlight, this.#believed(share));
  }

  /** The largest share the relay of `link` may act on now. */
  granted(link: number): number {
    const share = this.#shares.get(link);
    return share ? this.#believed(share) : 0;
  }

  /**
   * A socket is about to say `hello`: returns the slots it may announce, taken from those nobody
   * holds (possibly 0; `rebalance` grows it later).
   */
  join(link: number): number {
    this.#shares.delete(link);
    const target = this.#targets(link).get(link) ?? 0;
    const slots = Math.min(target, this.#free(link));
    this.#shares.set(link, {
      inFlight: 0,
      acked: slots,
      pending: [],
      nextSeq: 1,
      live: false,
      retiring: false,
    });
    return slots;
  }

  /** The socket was welcomed: it may now receive `capacity` frames. */
  welcomed(link: number): void {
    const share = this.#shares.get(link);
    if (share) share.live = true;
  }

  /** The relay said it is going away: it opens no more streams on this socket. */
  retire(link: number): void {
    const share = this.#shares.get(link);
    if (!share) return;
    share.retiring = true;
    // The relay takes no new stream here whatever it was told: nothing is left to confirm.
    share.acked = 0;
    share.pending = [];
  }

  /** The socket is gone (its streams were aborted): everything it held is free. */
  leave(link: number): void {
    this.#shares.delete(link);
  }

  /** True when the relay of `link` stayed within its share, so a new stream there may start. */
  admits(link: number): boolean {
    const share = this.#shares.get(link);
    if (!share || share.retiring) return false;
    return share.inFlight < this.#believed(share) && this.#inFlight() < this.#total;
  }

  opened(link: number): void {
    const share = this.#shares.get(link);
    if (share) share.inFlight++;
  }

  finished(link: number): void {
    const share = this.#shares.get(link);
    if (share && share.inFlight > 0) share.inFlight--;
  }

  /** The relay of `link` echoed `capacity` frame `seq`: it holds itself to that share now. */
  acked(link: number, seq: number): void {
    const share = this.#shares.get(link);
    if (!share) return;
    const index = share.pending.findIndex((sent) => sent.seq === seq);
    if (index < 0) return;
    share.acked = share.pending[index]!.slots;
    share.pending.splice(0, index + 1);
  }

  /**
   * The `capacity` frames that move every live socket toward its fair share: lowered shares
   * first (they free slots only once echoed), then raised ones, each only into free slots.
   */
  rebalance(): readonly ShareUpdate[] {
    // Called after every finished stream, and nearly always with nothing to send: no Map, array
    // or closure until there is.
    let updates: ShareUpdate[] | undefined;
    for (const [link, share] of this.#shares) {
      if (!share.live || share.retiring) continue;
      const target = this.#targetOf(link);
      if (target < this.#latest(share)) updates = this.#send(updates, link, share, target);
    }
    for (const [link, share] of this.#shares) {
      if (!share.live || share.retiring) continue;
      const latest = this.#latest(share);
      const target = Math.min(this.#targetOf(link), this.#believed(share) + this.#free(link, true));
      if (target > latest) updates = this.#send(updates, link, share, target);
    }
    return updates ?? NO_UPDATES;
  }

  /** Records a `capacity` frame moving `link` to `slots`; returns `updates` with it. */
  #send(updates: ShareUpdate[] | undefined, link: number, share: Share, slots: number): ShareUpdate[] {
    const seq = share.nextSeq++;
    share.pending.push({ seq, slots });
    const update = { link, seq, slots };
    if (!updates) return [update];
    updates.push(update);
    return updates;
  }

  /** Every socket's share and streams, for the status page. */
  snapshot(link: number): { slots: number; inFlight: number } | undefined {
    const share = this.#shares.get(link);
    return share && { slots: this.#believed(share), inFlight: share.inFlight };
  }

  #believed(share: Share): number {
    let most = share.acked;
    for (const sent of share.pending) most = Math.max(most, sent.slots);
    return most;
  }

  #latest(share: Share): number {
    return share.pending.at(-1)?.slots ?? share.acked;
  }

  #inFlight(): number {
    let sum = 0;
    for (const share of this.#shares.values()) sum += share.inFlight;
    return sum;
  }

  /**
   * Slots held by no socket but `link`. With `beyondOwn`, what `link` could add to its current
   * belief: the total minus what every socket holds, its own streams above its belief included.
   */
  #free(link: number, beyondOwn = false): number {
    let held = 0;
    for (const [id, share] of this.#shares) {
      if (id === link) {
        if (beyondOwn) held += Math.max(0, share.inFlight - this.#believed(share));
        continue;
      }
      held += Math.max(share.inFlight, this.#believed(share));
    }
    return Math.max(0, this.#total - held);
  }

  /** `link`'s fair share, as #targets() gives it, without building the table. */
  #targetOf(link: number): number {
    let count = 0;
    let index = -1;
    for (const [id, share] of this.#shares) {
      if (share.retiring) continue;
      if (id === link) index = count;
      count++;
    }
    if (index === -1) return 0;
    const base = Math.floor(this.#total / Math.max(1, count));
    return base + (index < this.#total - base * count ? 1 : 0);
  }

  /**
   * Fair shares among the sockets that may take streams (joined, not retiring), `extra` counted
   * as one of them: the total split evenly, the remainder to the earliest.
   */
  #targets(extra?: number): Map<number, number> {
    const links = [...this.#shares.entries()].filter(([, share]) => !share.retiring).map(([id]) => id);
    if (extra !== undefined && !links.includes(extra)) links.push(extra);
    const base = Math.floor(this.#total / Math.max(1, links.length));
    const remainder = this.#total - base * links.length;
    return new Map(links.map((id, i) => [id, base + (i < remainder ? 1 : 0)]));
  }
}

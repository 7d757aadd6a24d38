/**
 * Sticky sessions: `X-Session-Name` pins a conversation to the agent that served it. Entries
 * expire after an idle period; the table is bounded (oldest entries go first). A pin belongs to
 * the API key that made it: its table key starts with the key's id, so another consumer who sends
 * the same session name has a pin of their own and can neither move nor probe this one.
 */

export type PinOutcome = 'new' | 'kept' | 'repinned';

/**
 * What a request is pinned by. `session`: the consumer named it (X-Session-Name): the agent is
 * kept while it is fit, waited for when busy, and `x-session-pin` tells the outcome. A
 * `conversation` (routing/conversation.ts) is a preference only; `follow` is false for a first
 * turn, which is balanced as usual and only records where it went.
 */
export type Pin = { kind: 'session'; key: string } | { kind: 'conversation'; key: string; follow: boolean };

/** The pin of session `name` of the API key `keyId` (names hold no `/`: see SESSION_NAME). */
export function sessionPin(keyId: string, name: string): Pin {
  return { kind: 'session', key: `${keyId}/${name}` };
}

/** Session names: 1–128 of A–Z a–z 0–9 . _ : - (they end up in logs and maps, never in headers). */
export const SESSION_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/** Where pins live: in memory (one relay) or in Redis (shared by the cluster). */
export interface StickyStore {
  get(name: string): string | undefined | Promise<string | undefined>;
  /** Fire and forget: a lost pin only costs stickiness. */
  set(name: string, agentKey: string): void;
}

export class StickyTable implements StickyStore {
  private readonly pins = new Map<string, { agentKey: string; seen: number }>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly idleMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The agent a session is pinned to, if the pin is still fresh. */
  get(name: string): string | undefined {
    const pin = this.pins.get(name);
    if (!pin) return undefined;
    if (this.now() - pin.seen > this.idleMs) {
      this.pins.delete(name);
      return undefined;
    }
    return pin.agentKey;
  }

  set(name: string, agentKey: string): void {
    this.pins.delete(name); // re-insert so Map order stays oldest-first
    this.pins.set(name, { agentKey, seen: this.now() });
    if (this.pins.size > this.maxEntries) {
      const oldest = this.pins.keys().next().value;
      if (oldest !== undefined) this.pins.delete(oldest);
    }
  }

  get size(): number {
    return this.pins.size;
  }
}

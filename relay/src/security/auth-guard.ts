/**
 * Brute-force brake: an address that fails authentication `threshold` times within a window
 * (default 10 per minute) is refused for a period that doubles with each further block
 * (1 min → 1 h cap), on `/v1/*`, `/api/*` and `/agent/connect` alike. A success does not reset
 * the count (a guesser holding one valid key must not keep guessing). Bounded memory: the table
 * forgets idle addresses and never holds more than `maxEntries`.
 */

export type AuthGuardOptions = {
  threshold?: number;
  windowMs?: number;
  baseBlockMs?: number;
  maxBlockMs?: number;
  maxEntries?: number;
  now?: () => number;
};

type Entry = { failures: number[]; blocks: number; blockedUntil: number; seen: number };

export class AuthGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly baseBlockMs: number;
  private readonly maxBlockMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: AuthGuardOptions = {}) {
    this.threshold = options.threshold ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.baseBlockMs = options.baseBlockMs ?? 60_000;
    this.maxBlockMs = options.maxBlockMs ?? 3_600_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds the address must wait, or 0 when it may try. */
  retryAfter(address: string): number {
    const entry = this.entries.get(address);
    if (!entry) return 0;
    const left = entry.blockedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Records a failed authentication. */
  failed(address: string): void {
    const now = this.now();
    let entry = this.entries.get(address);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) this.evict(now);
      entry = { failures: [], blocks: 0, blockedUntil: 0, seen: now };
      this.entries.set(address, entry);
    }
    entry.seen = now;
    entry.failures = entry.failures.filter((t) => now - t < this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.threshold) {
      entry.blocks++;
      entry.blockedUntil = now + Math.min(this.maxBlockMs, this.baseBlockMs * 2 ** (entry.blocks - 1));
      entry.failures = [];
    }
  }

  private evict(now: number): void {
    for (const [address, entry] of this.entries) {
      if (entry.blockedUntil < now && now - entry.seen > this.windowMs) this.entries.delete(address);
    }
    // Still full (an attack from very many addresses): drop the oldest half.
    if (this.entries.size >= this.maxEntries) {
      let drop = this.entries.size >> 1;
      for (const address of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(address);
      }
    }
  }
}

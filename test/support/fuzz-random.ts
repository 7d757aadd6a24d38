/**
 * Seeded randomness for the process-level fuzz run: one PRNG (mulberry32) so a failing run can be
 * replayed with FUZZ_SEED, byte mutators, and a counter of inputs tried per kind.
 */

export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Printable ASCII, or (with `wide`) anything from the first 0x2fff code points, as a string. */
  text(length: number, wide = false): string {
    let out = '';
    for (let i = 0; i < length; i++)
      out += String.fromCharCode(wide ? this.int(0, 0x2fff) : this.int(0x20, 0x7e));
    return out;
  }

  /** A copy of `source` with a few byte flips, insertions, deletions or a truncation. */
  mutate(source: Buffer | string): Buffer {
    let out = Buffer.from(source);
    const edits = this.int(1, 4);
    for (let e = 0; e < edits; e++) {
      const at = out.length === 0 ? 0 : this.int(0, out.length - 1);
      switch (this.int(0, 4)) {
        case 0:
          if (out.length > 0) out[at] = this.int(0, 255);
          break;
        case 1:
          out = Buffer.concat([out.subarray(0, at), this.bytes(this.int(1, 8)), out.subarray(at)]);
          break;
        case 2:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + this.int(1, 8))]);
          break;
        case 3:
          out = out.subarray(0, at);
          break;
        default:
          // Swap in a character that matters to JSON or HTTP.
          if (out.length > 0)
            out[at] = this.pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x0d, 0x0a, 0x00]);
      }
    }
    return out;
  }
}

/** Inputs tried, per kind. */
export class Counter {
  readonly counts = new Map<string, number>();

  add(kind: string, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  get(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `kind n` lines, largest first. */
  lines(): string[] {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${kind.padEnd(28)} ${String(n).padStart(7)}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

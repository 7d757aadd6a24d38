/**
 * Which release key this agent trusts: the one pinned by its package (config.jsonc `release_key`,
 * else the key built into the bundle), moved on by the rotations it has seen. Each rotation is an
 * announcement signed by the key before it (release-signature.ts), so neither a relay nor the
 * file they are kept in can name a key of its own; the steps are kept beside the bundle so that a
 * restarted agent still trusts the key of the version it runs.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { keyAnnouncementSchema } from '@arena-relay/shared';
import { z } from 'zod';
import type { Logger } from '../logging.js';
import { currentKey } from './release-signature.js';

type Announcement = { key: string; signature: string };
/** Only the key holder adds steps (each is signed by the key before it): the bound is a sanity cap. */
const keptChain = z.array(keyAnnouncementSchema).max(64);

/** The file beside the bundle that keeps the rotations seen. */
export const RELEASE_KEYS_FILE = 'arena-agent.release-keys.json';

export class ReleaseTrust {
  #chain: Announcement[];

  private constructor(
    /** The pinned key; none: every update is refused. */
    readonly pinned: string | undefined,
    private readonly file: string | undefined,
    chain: Announcement[],
  ) {
    this.#chain = chain;
  }

  /** Reads the kept rotations from `file` (absent or unreadable: none). */
  static async load(pinned: string | undefined, file?: string): Promise<ReleaseTrust> {
    let chain: Announcement[] = [];
    if (file) {
      try {
        const parsed = keptChain.safeParse(JSON.parse(await readFile(file, 'utf8')));
        if (parsed.success) chain = parsed.data;
      } catch {
        // No file yet, or not ours: the pinned key alone.
      }
    }
    return new ReleaseTrust(pinned, file, chain);
  }

  /** The key trusted now; undefined when none is pinned. */
  get key(): string | undefined {
    return this.pinned === undefined ? undefined : currentKey(this.pinned, this.#chain);
  }

  /** The key a release carrying `chain` must be signed by: the current one, moved on by `chain`. */
  keyFor(chain: readonly Announcement[] = []): string | undefined {
    const key = this.key;
    return key === undefined ? undefined : currentKey(key, chain);
  }

  /**
   * Keeps the steps of `chain` that move the trusted key on (called once a release signed by the
   * resulting key verified). A write failure is logged: the relay sends the chain again.
   */
  async adopt(chain: readonly Announcement[], logger: Logger): Promise<void> {
    const from = this.key;
    if (from === undefined) return;
    let current = from;
    for (const step of chain) {
      const next = currentKey(current, [step]);
      if (next === current) continue;
      this.#chain.push(step);
      current = next;
    }
    if (current === from) return;
    logger.warn({ from, to: current }, 'release key rotated: the new key was announced by the one pinned');
    if (!this.file) return;
    try {
      await writeFile(`${this.file}.tmp`, `${JSON.stringify(this.#chain, null, 2)}\n`);
      await rename(`${this.file}.tmp`, this.file);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not keep the rotated release key');
    }
  }
}

/**
 * The operator's model aliases, kept in the Store (one setting, so SQLite and Redis hold them the
 * same way and every relay of a cluster reads the same table) and cached here: requests read the
 * cache, never the store. Other relays' changes arrive with the next refresh (`refreshMs`).
 */
import type { Logger } from 'pino';
import { RelayError } from '../errors/relay-error.js';
import type { Store } from '../store/store.js';
import { type AliasTable, aliasConflict, aliasName, aliasTargets } from './model-aliases.js';

export const ALIASES_SETTING = 'model_aliases';
/** How stale another relay's view of an alias change may be. */
export const ALIAS_REFRESH_MS = 5000;

export type AliasBookOptions = {
  store: Pick<Store, 'getSetting' | 'setSetting'>;
  /** How often the table is read again from the store, in ms (other relays' changes). */
  refreshMs: number;
  logger: Logger;
};

export class AliasBook {
  #table = new Map<string, readonly string[]>();
  #timer: NodeJS.Timeout | undefined;
  readonly #options: AliasBookOptions;

  constructor(options: AliasBookOptions) {
    this.#options = options;
  }

  get table(): AliasTable {
    return this.#table;
  }

  /** Every alias, by name. */
  list(): Record<string, string[]> {
    return Object.fromEntries([...this.#table].map(([name, models]) => [name, [...models]]));
  }

  /** Reads the table from the store now; a stored value that does not parse keeps the cache. */
  async load(): Promise<void> {
    this.#table = await this.#read();
  }

  /** Loads, then keeps reloading every `refreshMs` until `stop`. */
  async start(): Promise<void> {
    await this.load();
    this.#timer = setInterval(() => {
      this.load().catch((error: Error) =>
        this.#options.logger.warn({ err: error.message }, 'could not refresh the model aliases'),
      );
    }, this.#options.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Creates or replaces alias `name`; throws RelayError `invalid_request` for a bad one. */
  async set(name: string, models: readonly string[]): Promise<readonly string[]> {
    const checkedName = aliasName.safeParse(name);
    if (!checkedName.success) {
      throw new RelayError('invalid_request', `alias name: ${checkedName.error.issues[0]?.message}`, {
        param: 'name',
      });
    }
    const checked = aliasTargets.safeParse(models);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new RelayError('invalid_request', `models: ${issue?.message}`, { param: 'models' });
    }
    // Read again right before writing: another relay may have changed the table since the last refresh.
    const table = await this.#read();
    const conflict = aliasConflict(table, name, checked.data);
    if (conflict) throw new RelayError('invalid_request', conflict, { param: 'models' });
    table.set(name, checked.data);
    await this.#write(table);
    return checked.data;
  }

  /** False when there was no such alias. */
  async delete(name: string): Promise<boolean> {
    const table = await this.#read();
    if (!table.delete(name)) return false;
    await this.#write(table);
    return true;
  }

  async #read(): Promise<Map<string, readonly string[]>> {
    const raw = await this.#options.store.getSetting(ALIASES_SETTING);
    if (raw === undefined) return new Map();
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      const table = new Map<string, readonly string[]>();
      for (const [name, models] of Object.entries(parsed)) {
        const checked = aliasTargets.safeParse(models);
        if (aliasName.safeParse(name).success && checked.success) table.set(name, checked.data);
      }
      return table;
    } catch {
      this.#options.logger.warn('the stored model aliases are not JSON; keeping the ones in memory');
      return new Map(this.#table);
    }
  }

  async #write(table: Map<string, readonly string[]>): Promise<void> {
    await this.#options.store.setSetting(ALIASES_SETTING, JSON.stringify(Object.fromEntries(table)));
    this.#table = table;
  }
}

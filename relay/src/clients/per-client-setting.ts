/**
 * One operator setting per bridge client, kept in the Store (a setting named `<name>:<client id>`,
 * JSON checked by `schema`), so SQLite and Redis hold it alike and every relay reads the same.
 * A stored value that no longer checks reads as the default.
 */
import type { z } from 'zod';
import type { Store } from '../store/store.js';

export class PerClientSetting<T> {
  constructor(
    private readonly store: Pick<Store, 'getSetting' | 'setSetting'>,
    private readonly name: string,
    private readonly schema: z.ZodType<T>,
    private readonly fallback: T,
  ) {}

  async get(clientId: string): Promise<T> {
    const raw = await this.store.getSetting(`${this.name}:${clientId}`);
    if (raw === undefined) return this.fallback;
    try {
      const parsed = this.schema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : this.fallback;
    } catch {
      return this.fallback;
    }
  }

  async set(clientId: string, value: T): Promise<void> {
    await this.store.setSetting(`${this.name}:${clientId}`, JSON.stringify(value));
  }
}

/**
 * Pushed settings: the operator's per-client settings for the agent (`max_concurrency`, models to
 * offer only or to hide, `log_level`), sent in a `settings` frame to every agent of the client
 * whose hello said `pushedSettings`: right after welcome, and again when they change. The agent
 * applies them without a restart, except where its owner set a value explicitly.
 */
import { LOG_LEVELS, type SettingsFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { AgentSession } from '../tunnel/agent-session.js';
import { PerClientSetting } from './per-client-setting.js';

const models = z.array(z.string().min(1).max(256)).max(2048);

/** The admin API's shape (snake_case, as the rest of `/api/clients`); PUT replaces the whole. */
export const clientSettings = z.strictObject({
  max_concurrency: z.int().min(1).max(1024).optional(),
  models: z.strictObject({ only: models.optional(), hide: models.optional() }).optional(),
  log_level: z.enum(LOG_LEVELS).optional(),
});
export type ClientSettings = z.infer<typeof clientSettings>;

export function settingsFrameOf(settings: ClientSettings): SettingsFrame {
  const frame: SettingsFrame = { type: 'settings' };
  if (settings.max_concurrency !== undefined) frame.maxConcurrency = settings.max_concurrency;
  if (settings.models) frame.models = settings.models;
  if (settings.log_level !== undefined) frame.logLevel = settings.log_level;
  return frame;
}

export class PushedSettings {
  readonly #settings: PerClientSetting<ClientSettings>;

  constructor(
    store: Pick<Store, 'getSetting' | 'setSetting'>,
    private readonly hub: Pick<AgentHub, 'on' | 'sessions'>,
    private readonly logger: Logger,
  ) {
    this.#settings = new PerClientSetting(store, 'client_settings', clientSettings, {});
  }

  start(): void {
    this.hub.on('session', (session) => void this.push(session));
  }

  get(clientId: string): Promise<ClientSettings> {
    return this.#settings.get(clientId);
  }

  /** Stores them; the caller pushes them (`pushToClient` on every relay of the cluster). */
  set(clientId: string, settings: ClientSettings): Promise<void> {
    return this.#settings.set(clientId, settings);
  }

  /** Sends `settings` to the client's agents on this relay (each relay does so for its own). */
  pushToClient(clientId: string, settings: ClientSettings): void {
    for (const session of this.hub.sessions.values()) {
      if (session.client.id === clientId && session.hello?.pushedSettings)
        session.send(settingsFrameOf(settings));
    }
  }

  async push(session: AgentSession): Promise<void> {
    if (!session.hello?.pushedSettings) return;
    try {
      session.send(settingsFrameOf(await this.get(session.client.id)));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not push the client settings');
    }
  }
}

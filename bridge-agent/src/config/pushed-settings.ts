/**
 * Settings the relay pushes for this client (`settings` frames) over the agent's own config: a
 * value the owner set explicitly (config.jsonc, AGENT_* variable or flag) always wins; else the
 * relay's, else the default. Says which source each value came from, for `/platform/status`.
 * A pushed log level is clamped to `warn` at most: a relay can make the agent chattier, never
 * hide its warnings (a refused update among them).
 */
import type { SettingsFrame } from '@arena-relay/shared';
import type { AgentConfig, FieldName } from './schema.js';

/** Levels that would hide warnings, and what a pushed one becomes. */
const QUIETER_THAN_WARN: ReadonlySet<string> = new Set(['error', 'fatal', 'silent']);

export type SettingSource = 'local' | 'relay' | 'default';
export type SettingsChange = { maxConcurrency?: number; logLevel?: string; models?: true };

export class AgentSettings {
  #pushed: SettingsFrame = { type: 'settings' };

  constructor(
    private readonly config: AgentConfig,
    private readonly explicit: ReadonlySet<FieldName>,
  ) {}

  get maxConcurrency(): number {
    return this.#pick('maxConcurrency', this.#pushed.maxConcurrency);
  }

  get logLevel(): string {
    const pushed = this.#pushed.logLevel;
    return this.#pick('logLevel', pushed !== undefined && QUIETER_THAN_WARN.has(pushed) ? 'warn' : pushed);
  }

  /** The bridge's models this agent offers: the relay may narrow the list (`only`, `hide`). */
  offered(models: string[]): string[] {
    const { only, hide } = this.#pushed.models ?? {};
    if (!only && !hide) return models;
    return models.filter((m) => (!only || only.includes(m)) && !hide?.includes(m));
  }

  /** Takes a new frame; returns what changed in effect. */
  apply(frame: SettingsFrame): SettingsChange {
    const before = {
      max: this.maxConcurrency,
      level: this.logLevel,
      models: JSON.stringify(this.#pushed.models),
    };
    this.#pushed = frame;
    const change: SettingsChange = {};
    if (this.maxConcurrency !== before.max) change.maxConcurrency = this.maxConcurrency;
    if (this.logLevel !== before.level) change.logLevel = this.logLevel;
    if (JSON.stringify(frame.models) !== before.models) change.models = true;
    return change;
  }

  /** Each pushable setting's value and where it came from. */
  sources() {
    const models = this.#pushed.models;
    return {
      max_concurrency: {
        value: this.maxConcurrency,
        source: this.#source('maxConcurrency', this.#pushed.maxConcurrency),
      },
      log_level: { value: this.logLevel, source: this.#source('logLevel', this.#pushed.logLevel) },
      models: {
        only: models?.only ?? null,
        hide: models?.hide ?? null,
        source: models ? 'relay' : 'default',
      },
    };
  }

  #pick<K extends 'maxConcurrency' | 'logLevel'>(
    name: K,
    pushed: AgentConfig[K] | undefined,
  ): AgentConfig[K] {
    return this.explicit.has(name) || pushed === undefined ? this.config[name] : pushed;
  }

  #source(name: FieldName, pushed: unknown): SettingSource {
    if (this.explicit.has(name)) return 'local';
    return pushed === undefined ? 'default' : 'relay';
  }
}

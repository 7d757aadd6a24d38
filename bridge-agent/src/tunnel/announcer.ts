/**
 * What the agent tells its relays about itself: the `hello` of every dial, then `models`,
 * `ready` and `capacity` whenever they change, on every welcomed socket. It remembers what each
 * socket's `hello` said, to correct it at `welcome` when the bridge changed while the relay was
 * answering.
 */
import { randomUUID } from 'node:crypto';
import {
  type AgentFrame,
  type HelloFrame,
  PROTOCOL_VERSION,
  type ReadyFrame,
  truncateChars,
  type UpdateResultFrame,
  type WelcomeFrame,
} from '@arena-relay/shared';
import type { AgentSettings } from '../config/pushed-settings.js';
import type { AgentConfig } from '../config/schema.js';
import type { BridgeClient } from '../upstream/bridge-client.js';
import type { Readiness } from '../upstream/readiness.js';
import type { SessionChannel } from './relay-stream.js';
import type { SlotShares } from './slot-shares.js';

export type AnnouncerParts = {
  config: Pick<AgentConfig, 'capabilities' | 'clientId'>;
  readiness: Readiness;
  bridge: BridgeClient;
  settings: AgentSettings;
  shares: SlotShares;
  /** This agent's version (version.ts), said in every `hello`. */
  agentVersion: string;
  /** Tell relays this agent takes `update` offers. */
  autoUpdate?: boolean;
};

export class Announcer {
  /** Kept across reconnects: the relay moves new streams off an older session of this instance. */
  readonly #instanceId = randomUUID();
  readonly #parts: AnnouncerParts;
  /** Welcomed sockets, by link id. */
  readonly #channels = new Map<number, SessionChannel>();
  /** Links whose relay said it takes `update_result` frames (an older relay would close on one). */
  readonly #takesResults = new Set<number>();
  /** What each link's last `hello` told its relay, to catch changes made before `welcome` came. */
  readonly #announced = new Map<number, { models: string[]; ready: boolean }>();

  constructor(parts: AnnouncerParts) {
    this.#parts = parts;
  }

  /** The `hello` of a dial of link `link`, with the models and readiness of this moment. */
  hello(link: number): HelloFrame {
    const { config, readiness, bridge, settings, shares } = this.#parts;
    const { ready, reason } = readiness;
    const models = this.#offered();
    const hello: HelloFrame = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      agentVersion: this.#parts.agentVersion,
      instanceId: this.#instanceId,
      capabilities: config.capabilities,
      models,
      maxConcurrency: settings.maxConcurrency,
      ready,
      slots: shares.join(link),
      pushedSettings: true,
      // The agent builds the bridge's request from the path, the body and its own key: the
      // consumer's headers in `open` would cross the socket for nothing.
      openHeaders: false,
      // The relay leaves the consumer's body as it came, and this agent writes in the routed model.
      routedModel: true,
      dialect: bridge.dialect.name,
    };
    const limit = bridge.dialect.promptLimitChars;
    if (limit !== undefined) hello.promptLimitChars = limit;
    if (this.#parts.autoUpdate) hello.autoUpdate = true;
    this.#announced.set(link, { models, ready });
    if (config.clientId) hello.clientId = config.clientId;
    if (!ready && reason) hello.readyReason = truncateChars(reason, 512);
    return hello;
  }

  /** Link `link` was welcomed: what changed since its `hello` goes out now. */
  welcomed(link: number, channel: SessionChannel, welcome?: Pick<WelcomeFrame, 'updateResults'>): void {
    this.#channels.set(link, channel);
    if (welcome?.updateResults) this.#takesResults.add(link);
    else this.#takesResults.delete(link);
    this.#parts.shares.welcomed(link);
    // Readiness may have changed while the relay was answering hello.
    const { ready } = this.#parts.readiness;
    const models = this.#offered();
    const announced = this.#announced.get(link);
    if (announced?.models.join() !== models.join()) channel.sendControl({ type: 'models', models });
    // `hello` has no reason code: a bridge that is not ready says why at once.
    if (announced?.ready !== ready || !ready) channel.sendControl(this.#readyFrame());
    this.rebalance();
  }

  /** Link `link`'s session ended: nothing more is said on it. */
  disconnected(link: number): void {
    this.#channels.delete(link);
    this.#takesResults.delete(link);
  }

  /** Tells link `link`'s relay that its update offer was not taken, if that relay asked to know. */
  updateResult(link: number, frame: UpdateResultFrame): void {
    if (this.#takesResults.has(link)) this.#channels.get(link)?.sendControl(frame);
  }

  /** Link `link`'s socket closed: its slots are shared among the others. */
  closed(link: number): void {
    this.#announced.delete(link);
    this.#parts.shares.leave(link);
    this.rebalance();
  }

  /** The offered models changed (bridge, pushed settings). */
  models(): void {
    this.#send({ type: 'models', models: this.#offered() });
  }

  /** The bridge's readiness changed. */
  ready(): void {
    this.#send(this.#readyFrame());
  }

  /** The agent is shutting down: relays route new work elsewhere while in-flight streams finish. */
  shuttingDown(): void {
    this.#send({ type: 'ready', ready: false, reason: 'agent shutting down', code: 'agent_shutting_down' });
  }

  /** Sends every socket the share of max_concurrency it should hold now. */
  rebalance(): void {
    for (const { link, seq, slots } of this.#parts.shares.rebalance()) {
      this.#channels.get(link)?.sendControl({ type: 'capacity', seq, slots });
    }
  }

  /** Sends a frame on every welcomed socket. */
  #send(frame: AgentFrame): void {
    for (const channel of this.#channels.values()) channel.sendControl(frame);
  }

  #readyFrame(): AgentFrame {
    const { readiness, bridge } = this.#parts;
    const { ready, reason, code, holdUntil } = readiness;
    const frame: ReadyFrame = { type: 'ready', ready, dialect: bridge.dialect.name };
    const limit = bridge.dialect.promptLimitChars;
    if (limit !== undefined) frame.promptLimitChars = limit;
    if (reason) frame.reason = truncateChars(reason, 512);
    if (!ready && code) frame.code = code;
    const wait = holdUntil - Date.now();
    if (!ready && wait > 0) frame.retryAfterMs = Math.min(Math.round(wait), 86_400_000);
    return frame;
  }

  /** The bridge's models as this agent offers them (pushed settings may narrow them). */
  #offered(): string[] {
    return this.#parts.settings.offered(this.#parts.readiness.models);
  }
}

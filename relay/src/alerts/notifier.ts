/**
 * Sends alerts to the operator's channels: each enabled channel gets the alert, retried with
 * back-off when it fails (a receiver that is down for a minute still gets it), and every attempt
 * lands in a bounded delivery log (`GET /api/alerts/deliveries`, per relay). Never throws: an
 * alert that cannot be delivered is logged, it does not fail whatever raised it.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Alert } from './alert.js';
import { CHANNELS_SETTING, type Channel, parseChannels, type Target } from './channels.js';
import { type SendContext, type SendResult, send } from './senders.js';

export type Delivery = {
  at: string;
  channel_id: string;
  channel_name: string;
  channel_kind: Target['kind'];
  alert_id: string;
  alert_kind: Alert['kind'];
  rule: string;
  /** Attempts made so far. */
  attempts: number;
  /** `pending` while a retry is scheduled. */
  state: 'delivered' | 'pending' | 'failed';
  status?: number | undefined;
  error?: string | undefined;
};

export type NotifierOptions = {
  store: Pick<Store, 'getSetting'>;
  logger: Logger;
  context: SendContext;
  /** Waits before the 2nd, 3rd … attempt, ms (default 2 s, 10 s, 60 s). */
  retryDelaysMs?: readonly number[];
  /** Deliveries the log keeps (default 200). */
  logSize?: number;
};

export class Notifier {
  readonly #options: NotifierOptions;
  readonly #log: Delivery[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  async channels(): Promise<Channel[]> {
    return parseChannels(await this.#options.store.getSetting(CHANNELS_SETTING));
  }

  /**
   * Delivers `alert` to every enabled channel (or only to `only`, enabled or not: a "send test").
   * Resolves with each channel's first attempt; retries go on in the background.
   */
  async notify(alert: Alert, only?: Target[]): Promise<Delivery[]> {
    const targets = only ?? (await this.channels().catch(() => [])).filter((c) => c.enabled);
    return Promise.all(targets.map((channel) => this.#attempt(channel, alert, this.#record(channel, alert))));
  }

  /** The delivery log, newest first. */
  deliveries(): Delivery[] {
    return [...this.#log].reverse();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #record(channel: Target, alert: Alert): Delivery {
    const delivery: Delivery = {
      at: new Date().toISOString(),
      channel_id: channel.id,
      channel_name: channel.name,
      channel_kind: channel.kind,
      alert_id: alert.id,
      alert_kind: alert.kind,
      rule: alert.rule,
      attempts: 0,
      state: 'pending',
    };
    this.#log.push(delivery);
    if (this.#log.length > (this.#options.logSize ?? 200)) this.#log.shift();
    return delivery;
  }

  async #attempt(channel: Target, alert: Alert, delivery: Delivery): Promise<Delivery> {
    let result: SendResult;
    try {
      result = await send(channel, alert, this.#options.context);
    } catch (error) {
      result = { ok: false, error: (error as Error).message };
    }
    delivery.attempts += 1;
    delivery.at = new Date().toISOString();
    delivery.status = result.status;
    delivery.error = result.ok ? undefined : result.error;
    const delays = this.#options.retryDelaysMs ?? [2000, 10_000, 60_000];
    if (result.ok) delivery.state = 'delivered';
    else if (delivery.attempts > delays.length || this.#closed || alert.kind === 'test') {
      // A "send test" answers the operator at once; it is not retried.
      delivery.state = 'failed';
      this.#options.logger.warn(
        {
          channel: channel.id,
          kind: channel.kind,
          rule: alert.rule,
          attempts: delivery.attempts,
          error: delivery.error,
        },
        'alert not delivered',
      );
    } else {
      const timer = setTimeout(
        () => {
          this.#timers.delete(timer);
          void this.#attempt(channel, alert, delivery);
        },
        delays[delivery.attempts - 1],
      );
      this.#timers.add(timer);
    }
    return { ...delivery };
  }
}

/**
 * Evaluates the alert rules every `intervalMs`: cluster conditions on one relay only (the holder
 * of a lease in Redis; an embedded relay holds it alone) with the incident book in the store, so a
 * relay restart mid-incident sends no duplicate; local conditions (Redis unreachable) on each
 * relay with a book in memory. Operators' channels get every message; a bridge's owner gets the
 * ones about their own bridge: by email when the client has one and SMTP is configured, and at
 * their own webhook when the client has one (signed with the client's secret, SSRF-guarded).
 */
import type { Logger } from 'pino';
import type { ClientRecord, Store } from '../store/store.js';
import type { Target } from './channels.js';
import { type AgentView, clusterConditions, localConditions } from './conditions.js';
import { type Announcement, emptyBook, evaluate, type IncidentTiming, parseBook } from './incidents.js';
import type { Notifier } from './notifier.js';

export const INCIDENTS_SETTING = 'alert_incidents';

/** Who may evaluate the cluster's rules now. */
export type Lease = { hold(): Promise<boolean>; release(): Promise<void> };
export const soleLease: Lease = { hold: async () => true, release: async () => {} };

export type AlertEngineOptions = {
  notifier: Notifier;
  store: Pick<Store, 'getSetting' | 'setSetting' | 'listClients' | 'getClientWebhookSecret'>;
  /** Every agent connection of the cluster. */
  agents(): AgentView[];
  redisUp(): boolean | null;
  /** Keys with a `tokens_per_day` limit and the tokens they used today. */
  keyBudgets(): Promise<Array<{ keyId: string; name: string; used: number; limit: number }>>;
  /** Relays that stopped without a goodbye and have not been replaced (the cluster's own view). */
  lostRelays(): string[];
  lease: Lease;
  timing: IncidentTiming;
  capacityMin: number;
  relayId: string;
  /** Where a message points (the dashboard), when the relay knows its public address. */
  dashboardUrl?: string | undefined;
  /** Whether owners can be emailed (SMTP configured). */
  ownerEmail: boolean;
  intervalMs: number;
  logger: Logger;
  newId(): string;
};

export class AlertEngine {
  readonly #o: AlertEngineOptions;
  #local = emptyBook();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: AlertEngineOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#o.lease.release().catch(() => undefined);
  }

  /** One evaluation (the timer calls it; tests call it with their own clock). */
  tick(now = Date.now()): Promise<void> {
    this.#running ??= this.#evaluate(now)
      .catch((error: Error) => this.#o.logger.warn({ err: error.message }, 'alert evaluation failed'))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #evaluate(now: number): Promise<void> {
    const o = this.#o;
    const local = evaluate(
      this.#local,
      localConditions({ redisUp: o.redisUp(), relayId: o.relayId }),
      now,
      o.timing,
      o.newId,
    );
    this.#local = local.book;
    await this.#announce(local.announce, []);

    if (!(await o.lease.hold())) return;
    const [stored, clients, keyBudgets] = await Promise.all([
      o.store.getSetting(INCIDENTS_SETTING),
      o.store.listClients(),
      o.keyBudgets(),
    ]);
    const book = parseBook(stored);
    const watchedModels = Object.values(book.open)
      .filter((r) => r.rule === 'model_outage')
      .map((r) => r.last.labels.model ?? '');
    const conditions = clusterConditions({
      now,
      agents: o.agents(),
      clients,
      watchedModels: watchedModels.filter(Boolean),
      heldUpdateFailures: Object.values(book.open)
        .filter((r) => r.rule === 'agent_update_failed' && r.openedAt !== undefined)
        .map((r) => r.last),
      capacityMin: o.capacityMin,
      keyBudgets,
      lostRelays: o.lostRelays(),
      redisUp: o.redisUp(),
      relayId: o.relayId,
    });
    const result = evaluate(book, conditions, now, o.timing, o.newId);
    // Saved before sending: a relay that dies between the two loses a message, never repeats one.
    await o.store.setSetting(INCIDENTS_SETTING, JSON.stringify(result.book));
    await this.#announce(result.announce, clients);
  }

  async #announce(announcements: Announcement[], clients: readonly ClientRecord[]): Promise<void> {
    const dashboard = this.#o.dashboardUrl;
    for (const { alert, ownerClientId } of announcements) {
      // A message about a client points at the Clients tab, where its row is.
      const link = dashboard && (alert.labels.client ? `${dashboard}#clients` : dashboard);
      this.#o.logger.info({ rule: alert.rule, kind: alert.kind, labels: alert.labels }, alert.title);
      await this.#o.notifier.notify(link ? { ...alert, link } : alert);
      const owner = ownerClientId ? clients.find((c) => c.id === ownerClientId) : undefined;
      const targets = owner ? await this.#ownerTargets(owner) : [];
      // The dashboard is the operator's: the owner's copy carries no link.
      if (targets.length > 0) await this.#o.notifier.notify({ ...alert, link: undefined }, targets);
    }
  }

  /** The owner's own addresses, as channels of one each: they hear about their bridge and nothing else. */
  async #ownerTargets(client: ClientRecord): Promise<Target[]> {
    const base = { name: `owner of ${client.name}`, enabled: true as const, created_at: client.created_at };
    const targets: Target[] = [];
    if (client.email && this.#o.ownerEmail)
      targets.push({ ...base, id: `owner:${client.id}`, kind: 'email', to: [client.email] });
    const secret = client.webhook_url
      ? await this.#o.store.getClientWebhookSecret(client.id).catch(() => undefined)
      : undefined;
    if (client.webhook_url && secret)
      targets.push({
        ...base,
        id: `owner-hook:${client.id}`,
        kind: 'owner_webhook',
        url: client.webhook_url,
        secret,
      });
    return targets;
  }
}

/**
 * Prometheus metrics of one relay, on its own prom-client Registry (never the global one, so
 * several relays in one process stay apart). Counters move on request ends (ExchangeObserver),
 * gauges are read from the live objects at scrape time: nothing here runs per chunk. Every series
 * carries a `relay` label (this relay's id, a default label of the registry), so that Prometheus
 * can sum a cluster's relays and still tell them apart.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import type { ExchangeRegistry } from '../proxy/registry.js';
import type { Cooldown } from '../routing/cooldown.js';
import type { Router } from '../routing/router.js';
import type { Store } from '../store/store.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';
import { OUTCOME_CLASSES } from './figures.js';

const PREFIX = 'arena_relay_';

/** Distinct `model` label values kept at most; later ones are counted as `other`. */
export const MAX_MODEL_LABELS = 200;
/** A store ping slower than this counts as down, ms. */
const STORE_PING_TIMEOUT_MS = 1_000;

export type RelayMetricsDeps = {
  hub: AgentHub;
  router: Router;
  registry: ExchangeRegistry;
  store: Pick<Store, 'getSetting'>;
  relayId: string;
  /** Its benches are counted as they happen. */
  cooldown?: Pick<Cooldown, 'onTrip'>;
};

/** Process metrics (CPU, memory, event loop lag) are process-wide: registered once, merged per scrape. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class RelayMetrics implements ExchangeObserver {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  // The series every request moves are bound per label set (bound-metrics.ts): no label hashing per request.
  private readonly requests: BoundCounter;
  private readonly results: Counter<'result'>;
  private readonly duration: BoundHistogram;
  private readonly ttfb: BoundHistogram;
  private readonly bytes: BoundCounter;
  private readonly retries: Counter<'code'>;
  private readonly cooldownTrips: Counter;
  private readonly http: BoundCounter;

  constructor(private readonly deps: RelayMetricsDeps) {
    this.registry.setDefaultLabels({ relay: deps.relayId });
    const registers = [this.registry];
    this.requests = new BoundCounter(
      `${PREFIX}requests_total`,
      'Consumer requests proxied to an agent, by model, HTTP status and outcome',
      registers,
    );
    this.results = new Counter({
      name: `${PREFIX}request_results_total`,
      help: 'Consumer requests by what their outcome counts as: ok, failed, consumer_error (a 4xx the consumer caused) or cancelled; success rate = ok / (ok + failed)',
      labelNames: ['result'],
      registers,
    });
    // Every class is a series from the start, so a rate over it exists before the first failure.
    for (const result of OUTCOME_CLASSES) this.results.inc({ result }, 0);
    this.duration = new BoundHistogram(
      `${PREFIX}request_duration_seconds`,
      'Whole proxied request, from arrival to the last byte',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    );
    this.ttfb = new BoundHistogram(
      `${PREFIX}ttfb_seconds`,
      'Time to the first body byte relayed to the consumer',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    );
    this.bytes = new BoundCounter(
      `${PREFIX}relayed_bytes_total`,
      'Body bytes relayed from agents to consumers',
      registers,
    );
    this.retries = new Counter({
      name: `${PREFIX}retries_total`,
      help: 'Attempts that failed before the first byte (the request may be retried on another agent), by failure code',
      labelNames: ['code'],
      registers,
    });
    this.cooldownTrips = new Counter({
      name: `${PREFIX}cooldown_trips_total`,
      help: 'Times the cooldown benched an agent, or one model on an agent, after repeated failures',
      registers,
    });
    deps.cooldown?.onTrip(() => this.cooldownTrips.inc());
    this.http = new BoundCounter(
      `${PREFIX}http_requests_total`,
      'HTTP requests answered by the relay, by method, route and status',
      registers,
    );
    this.gauges(registers);
  }

  private gauges(registers: Registry[]): void {
    const { hub, router, registry, store, relayId } = this.deps;
    new Gauge({
      name: `${PREFIX}info`,
      help: 'Constant 1, labelled with this relay instance id',
      labelNames: ['relay_id'],
      registers,
      collect() {
        this.set({ relay_id: relayId }, 1);
      },
    });
    new Gauge({
      name: `${PREFIX}streams_in_flight`,
      help: 'Consumer requests in flight on this relay',
      registers,
      collect() {
        this.set(registry.size);
      },
    });
    new Gauge({
      name: `${PREFIX}agents_connected`,
      help: 'Agent sockets that completed hello, by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = { ready: 0, not_ready: 0, draining: 0 };
        for (const s of hub.list()) counts[s.draining ? 'draining' : s.ready ? 'ready' : 'not_ready']++;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    // Pairs of client and reason shown non-zero at the last scrape.
    let shown = new Set<string>();
    new Gauge({
      name: `${PREFIX}agents_not_ready`,
      help: "Connected agents whose bridge is not serving, by bridge client and the agent's reason code",
      labelNames: ['client', 'reason'],
      registers,
      collect() {
        const counts = new Map<string, number>();
        for (const s of hub.list()) {
          if (s.ready || s.draining) continue;
          const pair = `${s.client.id}\u0000${s.readyCode ?? 'unknown'}`;
          counts.set(pair, (counts.get(pair) ?? 0) + 1);
        }
        // Only live pairs are series (clients × reasons would be too many); a pair that cleared
        // reads 0 once, so an alert on it resolves instead of going stale.
        this.reset();
        for (const pair of shown) if (!counts.has(pair)) counts.set(pair, 0);
        shown = new Set();
        for (const [pair, n] of counts) {
          const [client, reason] = pair.split('\u0000') as [string, string];
          this.set({ client, reason }, n);
          if (n > 0) shown.add(pair);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}agent_capacity`,
      help: 'Stream slots of routable agents (sum of max_concurrency)',
      registers,
      collect() {
        this.set(hub.list().reduce((sum, s) => sum + (s.routable ? s.maxConcurrency : 0), 0));
      },
    });
    new Gauge({
      name: `${PREFIX}agent_streams`,
      help: 'Streams open on agent sockets',
      registers,
      collect() {
        this.set(hub.list().reduce((sum, s) => sum + s.inFlight, 0));
      },
    });
    new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Requests waiting for a free agent',
      registers,
      collect() {
        this.set(router.queueDepth);
      },
    });
    new Gauge({
      name: `${PREFIX}agents_benched`,
      help: 'Connected agents currently benched by the cooldown',
      registers,
      collect() {
        let benched = 0;
        for (const s of hub.list()) if (router.cooldownState(s.agentKey)?.benched) benched++;
        this.set(benched);
      },
    });
    // store_up's collect probes the store once and sets both gauges; store_ping_seconds is
    // registered after it (below) so that a scrape writes this probe's time, not the last one's.
    const storePing = new Gauge({
      name: `${PREFIX}store_ping_seconds`,
      help: 'Time the store took to answer a small read at scrape time',
      registers: [],
    });
    new Gauge({
      name: `${PREFIX}store_up`,
      help: '1 when the store (SQLite or Redis) answered a small read within 1 s at scrape time',
      registers,
      async collect() {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), STORE_PING_TIMEOUT_MS);
        });
        const answer = await Promise.race([
          store.getSetting('admin_token_hash').then(
            () => 'ok' as const,
            () => 'error' as const,
          ),
          timeout,
        ]);
        clearTimeout(timer);
        this.set(answer === 'ok' ? 1 : 0);
        storePing.set((performance.now() - started) / 1000);
      },
    });
    this.registry.registerMetric(storePing);
  }

  /** The text exposition (this relay's metrics plus the process's). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([this.registry, processMetrics()]);
    // The process's series too: several relays in one process each label them as their own.
    merged.setDefaultLabels({ relay: this.deps.relayId });
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  finished(record: RequestRecord): void {
    const model = this.modelLabel(record);
    const { status, outcome } = record;
    const byModel = () => ({ model });
    this.requests.inc(`${model}\n${status}\n${outcome}`, () => ({ model, status: String(status), outcome }));
    this.results.inc({ result: record.result });
    this.duration.observe(model, byModel, record.durationMs / 1000);
    if (record.ttfbMs !== undefined) this.ttfb.observe(model, byModel, record.ttfbMs / 1000);
    if (record.bytes > 0) this.bytes.inc(model, byModel, record.bytes);
  }

  attemptFailed(info: { requestId: string; agentId: string; code: string }): void {
    this.retries.inc({ code: info.code });
  }

  /** Counts one answered HTTP request; `route` is the matched pattern, never the raw path. */
  httpRequest(method: string, route: string, status: number): void {
    this.http.inc(`${method} ${route} ${status}`, () => ({ method, route, status: String(status) }));
  }

  /**
   * Consumer-chosen model names must not grow the label set without bound: a model is a label
   * once some agent served it (until MAX_MODEL_LABELS); anything else is `other`.
   */
  private modelLabel(record: RequestRecord): string {
    if (this.models.has(record.model)) return record.model;
    if (record.agentId && this.models.size < MAX_MODEL_LABELS) {
      this.models.add(record.model);
      return record.model;
    }
    return 'other';
  }
}

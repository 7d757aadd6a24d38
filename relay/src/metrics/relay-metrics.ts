/**
 * Prometheus metrics of one relay, on its own prom-client Registry (never the global one, so
 * several relays in one process stay apart). Counters move on request ends (ExchangeObserver),
 * gauges are read from the live objects at scrape time: nothing here runs per chunk. Every series
 * carries a `relay` label (this relay's id, a default label of the registry), so that Prometheus
 * can sum a cluster's relays and still tell them apart.
 */
import { bridgeReasonCode } from '@arena-relay/shared';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import type { ExchangeRegistry } from '../proxy/registry.js';
import type { Router } from '../routing/router.js';
import type { Store } from '../store/store.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';

const PREFIX = 'arena_relay_';

/** Distinct `model` label values kept at most; later ones are counted as `other`. */
export const MAX_MODEL_LABELS = 200;
/** Cooldown trip counts remembered per agent at most (for the trips counter). */
const MAX_TRIP_ENTRIES = 4_096;
/** A store ping slower than this counts as down, ms. */
const STORE_PING_TIMEOUT_MS = 1_000;

export type RelayMetricsDeps = {
  hub: AgentHub;
  router: Router;
  registry: ExchangeRegistry;
  store: Pick<Store, 'getSetting'>;
  relayId: string;
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
  private readonly trips = new Map<string, number>();
  // The series every request moves are bound per label set (bound-metrics.ts): no label hashing per request.
  private readonly requests: BoundCounter;
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
      help: 'Times an agent was benched by the cooldown after repeated failures',
      registers,
    });
    this.http = new BoundCounter(
      `${PREFIX}http_requests_total`,
      'HTTP requests answered by the relay, by method, route and status',
      registers,
    );
    this.gauges(registers);
  }

  private gauges(registers: Registry[]): void {
    const { hub, router, registry, store, relayId } = this.deps;
    const metrics = this;
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
    new Gauge({
      name: `${PREFIX}agents_not_ready`,
      help: "Connected agents whose bridge is not serving, by the agent's reason code",
      labelNames: ['reason'],
      registers,
      collect() {
        // Every known reason is set (0 included) so a reason that clears drops to 0, not stale.
        const counts = new Map<string, number>(bridgeReasonCode.options.map((code) => [code, 0]));
        counts.set('unknown', 0);
        for (const s of hub.list()) {
          if (s.ready || s.draining) continue;
          const reason = s.readyCode ?? 'unknown';
          counts.set(reason, (counts.get(reason) ?? 0) + 1);
        }
        for (const [reason, n] of counts) this.set({ reason }, n);
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
        for (const s of hub.list()) {
          metrics.syncTrips(s.agentKey);
          if (router.cooldownState(s.agentKey)?.benched) benched++;
        }
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
    this.duration.observe(model, byModel, record.durationMs / 1000);
    if (record.ttfbMs !== undefined) this.ttfb.observe(model, byModel, record.ttfbMs / 1000);
    if (record.bytes > 0) this.bytes.inc(model, byModel, record.bytes);
    if (record.agentId) this.syncTripsOf(record.agentId);
  }

  attemptFailed(info: { requestId: string; agentId: string; code: string }): void {
    this.retries.inc({ code: info.code });
    this.syncTripsOf(info.agentId);
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

  private syncTripsOf(agentId: string): void {
    const session = this.deps.hub.sessions.get(agentId);
    if (session) this.syncTrips(session.agentKey);
  }

  /**
   * The cooldown keeps a trip count per agent; the counter adds what it grew by since last seen.
   * Synced when a request of that agent ends or fails an attempt (right after the cooldown
   * counted it) and at every scrape, so a trip is missed only if its agent vanished before either.
   */
  private syncTrips(agentKey: string): void {
    const trips = this.deps.router.cooldownState(agentKey)?.trips ?? 0;
    const last = this.trips.get(agentKey) ?? 0;
    if (trips > last) this.cooldownTrips.inc(trips - last);
    if (trips === last) return;
    this.trips.delete(agentKey);
    if (trips === 0) return;
    if (this.trips.size >= MAX_TRIP_ENTRIES) {
      const oldest = this.trips.keys().next().value;
      if (oldest !== undefined) this.trips.delete(oldest);
    }
    this.trips.set(agentKey, trips);
  }
}

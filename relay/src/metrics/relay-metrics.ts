/**
 * Prometheus metrics of one relay, on its own prom-client Registry (never the global one, so
 * several relays in one process stay apart). Counters move on request ends (ExchangeObserver),
 * gauges are read from the live objects at scrape time (live-gauges.ts): nothing here runs per
 * chunk. Every series carries a `relay` label (this relay's id, a default label of the registry),
 * so that Prometheus can sum a cluster's relays and still tell them apart.
 */
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import type { ExchangeObserver, RequestRecord } from '../proxy/observer.js';
import type { ExchangeRegistry } from '../proxy/registry.js';
import type { Cooldown } from '../routing/cooldown.js';
import type { Router } from '../routing/router.js';
import type { Store } from '../store/store.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';
import { OUTCOME_CLASSES } from './figures.js';
import { registerLiveGauges } from './live-gauges.js';

const PREFIX = 'arena_relay_';

/** Distinct `model` label values kept at most; later ones are counted as `other`. */
export const MAX_MODEL_LABELS = 200;

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
    const bound = (name: string, help: string) => new BoundCounter(`${PREFIX}${name}`, help, registers);
    const histogram = (name: string, help: string, buckets: number[]) =>
      new BoundHistogram(`${PREFIX}${name}`, help, buckets, registers);
    const counter = <Label extends string>(name: string, help: string, labelNames: Label[] = []) =>
      new Counter<Label>({ name: `${PREFIX}${name}`, help, labelNames, registers });
    this.requests = bound(
      'requests_total',
      'Consumer requests proxied to an agent, by model, HTTP status and outcome',
    );
    this.results = counter(
      'request_results_total',
      'Consumer requests by what their outcome counts as: ok, failed, consumer_error (a 4xx the consumer caused) or cancelled; success rate = ok / (ok + failed)',
      ['result'],
    );
    // Every class is a series from the start, so a rate over it exists before the first failure.
    for (const result of OUTCOME_CLASSES) this.results.inc({ result }, 0);
    this.duration = histogram(
      'request_duration_seconds',
      'Whole proxied request, from arrival to the last byte',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    );
    this.ttfb = histogram(
      'ttfb_seconds',
      'Time to the first body byte relayed to the consumer',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    );
    this.bytes = bound('relayed_bytes_total', 'Body bytes relayed from agents to consumers');
    this.retries = counter(
      'retries_total',
      'Attempts that failed before the first byte (the request may be retried on another agent), by failure code',
      ['code'],
    );
    this.cooldownTrips = counter(
      'cooldown_trips_total',
      'Times the cooldown benched an agent, or one model on an agent, after repeated failures',
    );
    deps.cooldown?.onTrip(() => this.cooldownTrips.inc());
    this.http = bound(
      'http_requests_total',
      'HTTP requests answered by the relay, by method, route and status',
    );
    registerLiveGauges(this.registry, PREFIX, deps);
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

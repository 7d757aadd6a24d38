/**
 * The relay's gauges: read from the live objects at scrape time, never moved in between. Its
 * identity, requests in flight, agents by state and by not-ready reason, capacity, streams, the
 * wait queue, benched agents, and whether the store answers (and how fast).
 */
import { Gauge, type Registry } from 'prom-client';
import type { RelayMetricsDeps } from './relay-metrics.js';

/** A store ping slower than this counts as down, ms. */
const STORE_PING_TIMEOUT_MS = 1_000;

/** Registers the gauges on `registry`, each named `prefix` + its name. */
export function registerLiveGauges(
  registry: Registry,
  prefix: string,
  deps: Pick<RelayMetricsDeps, 'hub' | 'router' | 'registry' | 'store' | 'relayId'>,
): void {
  const { hub, router, relayId } = deps;
  const registers = [registry];
  /** A gauge of one series whose value `read` gives at scrape time. */
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  new Gauge({
    name: `${prefix}info`,
    help: 'Constant 1, labelled with this relay instance id',
    labelNames: ['relay_id'],
    registers,
    collect() {
      this.set({ relay_id: relayId }, 1);
    },
  });
  gauge('streams_in_flight', 'Consumer requests in flight on this relay', () => deps.registry.size);
  new Gauge({
    name: `${prefix}agents_connected`,
    help: 'Agent sockets that completed hello, by state',
    labelNames: ['state'],
    registers,
    collect() {
      const counts = { ready: 0, not_ready: 0, draining: 0 };
      for (const s of hub.list()) counts[s.draining ? 'draining' : s.ready ? 'ready' : 'not_ready']++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  notReadyGauge(prefix, registers, deps);
  gauge('agent_capacity', 'Stream slots of routable agents (sum of max_concurrency)', () =>
    hub.list().reduce((sum, s) => sum + (s.routable ? s.maxConcurrency : 0), 0),
  );
  gauge('agent_streams', 'Streams open on agent sockets', () =>
    hub.list().reduce((sum, s) => sum + s.inFlight, 0),
  );
  gauge('queue_depth', 'Requests waiting for a free agent', () => router.queueDepth);
  gauge('agents_benched', 'Connected agents currently benched by the cooldown', () => {
    let benched = 0;
    for (const s of hub.list()) if (router.cooldownState(s.agentKey)?.benched) benched++;
    return benched;
  });
  storeGauges(registry, prefix, deps);
}

/** Connected agents whose bridge is not serving, by client and reason: only live pairs are series. */
function notReadyGauge(prefix: string, registers: Registry[], { hub }: Pick<RelayMetricsDeps, 'hub'>): void {
  // Pairs of client and reason shown non-zero at the last scrape.
  let shown = new Set<string>();
  new Gauge({
    name: `${prefix}agents_not_ready`,
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
}

/** `store_up` and `store_ping_seconds`, from one small read per scrape. */
function storeGauges(registry: Registry, prefix: string, { store }: Pick<RelayMetricsDeps, 'store'>): void {
  // store_up's collect probes the store once and sets both gauges; store_ping_seconds is
  // registered after it (below) so that a scrape writes this probe's time, not the last one's.
  const storePing = new Gauge({
    name: `${prefix}store_ping_seconds`,
    help: 'Time the store took to answer a small read at scrape time',
    registers: [],
  });
  new Gauge({
    name: `${prefix}store_up`,
    help: '1 when the store (SQLite or Redis) answered a small read within 1 s at scrape time',
    registers: [registry],
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
  registry.registerMetric(storePing);
}

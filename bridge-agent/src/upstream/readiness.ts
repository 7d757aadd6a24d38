/**
 * Bridge readiness. LMArenaBridge has no health endpoint, so `GET /v1/models` answering 200 means
 * "up" (and gives the model list); a chat answered 503 means the browser tab is gone, which flips
 * readiness off until the next successful probe.
 */
import { EventEmitter } from 'node:events';
import { truncateChars } from '@arena-relay/shared';
import type { BridgeClient } from './bridge-client.js';
import { classifyNetworkError, errorDetail, readCapped, type UpstreamFailure } from './classify.js';

/** Interval between readiness probes, in ms. */
export const PROBE_INTERVAL_MS = 30_000;

/** Outcome of one probe; the shape of a `health` frame's `bridge` field. */
export type ProbeResult = { ok: boolean; status?: number; latencyMs: number; reason?: string };

type ReadinessEvents = {
  /** Readiness flipped. */
  ready: [ready: boolean, reason: string | undefined];
  /** The bridge's model list changed. */
  models: [models: string[]];
};

/** Model ids within the limits of the `hello`/`models` frames. */
function modelIds(json: unknown): string[] {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const ids = data
    .map((model) => (model as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 256);
  return [...new Set(ids)].slice(0, 2048);
}

export class Readiness extends EventEmitter<ReadinessEvents> {
  ready = false;
  reason: string | undefined = 'not probed yet';
  models: string[] = [];
  readonly #client: BridgeClient;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ProbeResult> | undefined;

  constructor(client: BridgeClient, intervalMs = PROBE_INTERVAL_MS) {
    super();
    this.#client = client;
    this.#intervalMs = intervalMs;
  }

  /** Probes once, then every interval. Resolves after the first probe. */
  async start(): Promise<void> {
    await this.probe();
    this.#timer ??= setInterval(() => void this.probe(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Probes the bridge now (joining a probe already running) and applies the result. Never rejects. */
  probe(): Promise<ProbeResult> {
    this.#running ??= this.#probeOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** A request found the bridge unable to serve: not ready until a probe says otherwise. */
  markUnavailable(reason: string): void {
    this.#setReady(false, reason);
  }

  /**
   * A chat request failed as `failure` says. An answer that says the bridge cannot serve (503 when
   * the browser tab is gone, 401/403) takes it out until a probe says otherwise. A network error
   * (a reset or refused connection) is checked with a probe at once: one dropped keep-alive
   * connection must not bench a healthy bridge until the next periodic probe, 30 s later.
   */
  chatFailed(failure: UpstreamFailure): void {
    if (failure.status !== undefined) this.markUnavailable(truncateChars(failure.message, 512));
    else void this.probe();
  }

  async #probeOnce(): Promise<ProbeResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    let result: ProbeResult;
    try {
      const response = await this.#client.models();
      const status = response.statusCode;
      if (status === 200) {
        const text = await readCapped(response.body, 4 * 1024 * 1024);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        this.#setModels(modelIds(json));
        result = { ok: true, status, latencyMs: latency() };
      } else {
        const detail = errorDetail(await readCapped(response.body));
        result = {
          ok: false,
          status,
          latencyMs: latency(),
          reason: truncateChars(`bridge answered ${status}: ${detail}`, 512),
        };
      }
    } catch (error) {
      result = {
        ok: false,
        latencyMs: latency(),
        reason: truncateChars(classifyNetworkError(error).message, 512),
      };
    }
    this.#setReady(result.ok, result.reason);
    return result;
  }

  #setModels(models: string[]): void {
    if (models.length === this.models.length && models.every((id, i) => id === this.models[i])) return;
    this.models = models;
    this.emit('models', models);
  }

  #setReady(ready: boolean, reason: string | undefined): void {
    const flipped = ready !== this.ready;
    this.ready = ready;
    this.reason = reason;
    if (flipped) this.emit('ready', ready, reason);
  }
}

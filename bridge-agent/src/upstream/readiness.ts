/**
 * Bridge readiness, with a reason. LMArenaBridge has no health endpoint, and `GET /v1/models`
 * answers 200 whether or not the browser tab is connected. So: `/v1/models` says the process is up
 * (and gives the model list); while not ready, a serve probe (see `BridgeClient.serveProbe`) says
 * whether a chat could be served, and why not. A chat that fails bridge-wide takes readiness off at
 * once, with its reason code. While not ready the bridge is probed on a short backoff
 * (1 s, then every 2 s by default), never before an LMArena retry-after has passed.
 */
import { EventEmitter } from 'node:events';
import { type BridgeReasonCode, truncateChars } from '@arena-relay/shared';
import type { BridgeClient } from './bridge-client.js';
import { modelsVerdict, servingVerdict } from './bridge-probes.js';
import type { UpstreamFailure } from './classify.js';

/** Interval between readiness probes while ready, in ms. */
export const PROBE_INTERVAL_MS = 30_000;

/** First retry delay while not ready, in ms; doubles per failed probe up to RETRY_CAP_MS. */
export const RETRY_BASE_MS = 1_000;

/**
 * Longest retry delay while not ready, in ms: probes are local and cheap, and a bridge that is
 * back (a Cloudflare refresh takes ~5 s) must serve again within this long.
 */
export const RETRY_CAP_MS = 2_000;

/**
 * How long a reason the serve probe cannot see stays in force when LMArena named no retry-after,
 * in ms. These come only from a real chat (LMArena answering the tab), so readiness waits this
 * long before a probe may bring the bridge back.
 */
export const HOLD_MS: Partial<Record<BridgeReasonCode, number>> = {
  upstream_rate_limited: 30_000,
  session_expired: 30_000,
  recaptcha_failed: 10_000,
  auth_token_expired: 30_000,
  recaptcha_mint_failed: 10_000,
  arena_forbidden: 10_000,
};

/**
 * How long a v2.7.6 bridge may say "userscript not connected" without ever having served before
 * the agent calls it `userscript_outdated`, in ms: long enough to open the tab after starting.
 */
export const OUTDATED_AFTER_MS = 120_000;

/** Outcome of one probe; the shape of a `health` frame's `bridge` field. */
export type ProbeResult = { ok: boolean; status?: number; latencyMs: number; reason?: string };

type ReadinessEvents = {
  /** Readiness flipped, or the reason code of not being ready changed. */
  ready: [ready: boolean, reason: string | undefined];
  /** The bridge's model list changed. */
  models: [models: string[]];
};

export type ReadinessOptions = {
  /** Interval between probes while ready, in ms (default PROBE_INTERVAL_MS). */
  intervalMs?: number;
  /** First retry delay while not ready, in ms (default RETRY_BASE_MS). */
  retryBaseMs?: number;
  /** Longest retry delay while not ready, in ms (default RETRY_CAP_MS, at most the interval). */
  retryCapMs?: number;
  /** Overrides HOLD_MS per reason, in ms. */
  holdMs?: Partial<Record<BridgeReasonCode, number>>;
  now?: () => number;
  /**
   * `bridge: auto`: finds the bridge's dialect (and sets it on the client); true when anything
   * answered. Run before the first probe and again after the bridge was unreachable, since another
   * bridge may have come up at the same address.
   */
  detect?: () => Promise<boolean>;
  /** See OUTDATED_AFTER_MS. */
  outdatedAfterMs?: number;
};

export class Readiness extends EventEmitter<ReadinessEvents> {
  ready = false;
  /** The bridge's (or the agent's) words for why it is not ready. */
  reason: string | undefined = 'not probed yet';
  /** The stable code for why it is not ready; undefined while ready. */
  code: BridgeReasonCode | undefined = 'not_probed';
  /** Until when (epoch ms) LMArena asked to wait; 0 when it did not. */
  holdUntil = 0;
  models: string[] = [];
  readonly #client: BridgeClient;
  readonly #intervalMs: number;
  readonly #retryBaseMs: number;
  readonly #retryCapMs: number;
  readonly #holdMs: Partial<Record<BridgeReasonCode, number>>;
  readonly #now: () => number;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ProbeResult> | undefined;
  /** Failed probes in a row while not ready: the backoff exponent. */
  #misses = 0;
  readonly #detect: (() => Promise<boolean>) | undefined;
  #needsDetect: boolean;
  /** The userscript was seen connected (the serve probe passed, or a chat was served). */
  #everConnected = false;
  readonly #createdAt: number;
  readonly #outdatedAfterMs: number;

  constructor(client: BridgeClient, options: ReadinessOptions | number = {}) {
    super();
    const opts = typeof options === 'number' ? { intervalMs: options } : options;
    this.#client = client;
    this.#intervalMs = opts.intervalMs ?? PROBE_INTERVAL_MS;
    this.#retryBaseMs = opts.retryBaseMs ?? RETRY_BASE_MS;
    this.#retryCapMs = Math.min(this.#intervalMs, opts.retryCapMs ?? RETRY_CAP_MS);
    this.#holdMs = { ...HOLD_MS, ...opts.holdMs };
    this.#now = opts.now ?? Date.now;
    this.#detect = opts.detect;
    this.#needsDetect = opts.detect !== undefined;
    this.#createdAt = this.#now();
    this.#outdatedAfterMs = opts.outdatedAfterMs ?? OUTDATED_AFTER_MS;
  }

  /** A chat was served whole: the bridge's browser side works (or worked). */
  served(): void {
    this.#everConnected = true;
  }

  /** Probes once, then keeps probing (interval while ready, backoff while not). Resolves after the first probe. */
  async start(): Promise<void> {
    this.#started = true;
    await this.probe();
  }

  stop(): void {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The delay before the next probe, in ms. */
  nextProbeInMs(): number {
    if (this.ready) return this.#intervalMs;
    const backoff = Math.min(this.#retryCapMs, this.#retryBaseMs * 2 ** Math.min(this.#misses, 20));
    return Math.max(backoff, this.holdUntil - this.#now());
  }

  /** Probes the bridge now (joining a probe already running) and applies the result. Never rejects. */
  probe(): Promise<ProbeResult> {
    this.#running ??= this.#probeOnce().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
    return this.#running;
  }

  /** The dialect is known already: no detection before the first probe (only after an outage). */
  skipDetection(): void {
    this.#needsDetect = false;
  }

  /** The agent itself is not ready (shutting down): said to the relay with this code. */
  markUnavailable(reason: string, code: BridgeReasonCode = 'bridge_error', retryAfterMs?: number): void {
    const hold = retryAfterMs ?? this.#holdMs[code];
    if (hold !== undefined) this.holdUntil = Math.max(this.holdUntil, this.#now() + hold);
    this.#misses = 0;
    this.#setReady(false, truncateChars(reason, 512), code);
    this.#schedule();
  }

  /**
   * A chat request failed bridge-wide as `failure` says. An answer that says the bridge cannot
   * serve (503 when the tab is gone, a Cloudflare check, 401/403, LMArena's 429) takes it out at
   * once, for that reason. A network error (a reset or refused connection) is checked with a probe
   * at once: one dropped keep-alive connection must not bench a healthy bridge.
   */
  chatFailed(failure: UpstreamFailure): void {
    if (failure.status === undefined) return void this.probe();
    this.markUnavailable(failure.message, failure.reason ?? 'bridge_error', failure.retryAfterMs);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#started || this.#running) return;
    this.#timer = setTimeout(() => void this.probe(), this.nextProbeInMs());
    this.#timer.unref();
  }

  async #probeOnce(): Promise<ProbeResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    if (this.#needsDetect && this.#detect) this.#needsDetect = !(await this.#detect().catch(() => false));
    let verdict = await modelsVerdict(this.#client);
    if (verdict.ok && verdict.models) this.#setModels(verdict.models);
    if (!verdict.ok && verdict.code === 'bridge_down' && this.#detect) this.#needsDetect = true;
    // `/v1/models` cannot tell a connected tab from a closed one: ask the chat route too, but only
    // while not ready for a reason seen (a ready bridge proves itself with every chat it serves).
    if (verdict.ok && !this.ready && this.code !== 'not_probed' && this.#client.dialect.serveProbe) {
      verdict = await servingVerdict(this.#client);
      if (verdict.ok && verdict.connected) this.#everConnected = true;
    }
    if (verdict.ok && this.holdUntil > this.#now() && this.code !== undefined) {
      verdict = { ok: false, reason: this.reason ?? 'waiting for LMArena', code: this.code };
    }
    const result: ProbeResult = { ok: verdict.ok, latencyMs: latency() };
    if (verdict.ok) {
      result.status = 200;
      this.#misses = 0;
      this.holdUntil = 0;
      this.#setReady(true, undefined, undefined);
    } else {
      if (verdict.status !== undefined) result.status = verdict.status;
      result.reason = verdict.reason;
      // The first probe that finds it not ready retries after the base delay, later ones back off.
      if (!this.ready && this.code !== 'not_probed') this.#misses++;
      this.#setReady(false, verdict.reason, verdict.code);
    }
    return result;
  }

  #setModels(models: string[]): void {
    if (models.length === this.models.length && models.every((id, i) => id === this.models[i])) return;
    this.models = models;
    this.emit('models', models);
  }

  #setReady(ready: boolean, reason: string | undefined, code: BridgeReasonCode | undefined): void {
    // v2.7.6's userscript matches only lmarena.ai: on arena.ai it never connects. A tab that has
    // never connected since the agent started, for minutes, is most likely that one.
    if (
      code === 'userscript_disconnected' &&
      !this.#everConnected &&
      this.#client.dialect?.name === 'lmarenabridge-v2' &&
      this.#now() - this.#createdAt >= this.#outdatedAfterMs
    ) {
      code = 'userscript_outdated';
    }
    const changed = ready !== this.ready || code !== this.code;
    this.ready = ready;
    this.reason = reason;
    this.code = code;
    if (changed) this.emit('ready', ready, reason);
  }
}

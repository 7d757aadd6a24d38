/**
 * The agent's side of the bridge, set up once: which dialect speaks to it (the owner's choice, or
 * what `bridge: auto` found), the concurrency that dialect implies unless the owner set one, and
 * the client and readiness probe built on them. With `bridge: auto` the probe detects again after
 * the bridge was unreachable: another bridge may answer at the same address.
 */
import type { BridgeReasonCode } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { BridgeClient } from './bridge-client.js';
import { type Detection, detectDialect } from './detect.js';
import { DIALECTS, type DialectName } from './dialects/index.js';
import { Readiness } from './readiness.js';

/** What the bridge side reads of the agent's configuration (config/schema.ts AgentConfig). */
export type BridgeSettings = {
  bridge: DialectName | 'auto';
  upstreamUrl: string;
  upstreamApiKey?: string | undefined;
  maxConcurrency: number;
};

/** The bridge side's knobs (part of AgentOptions); defaults suit production. */
export type BridgeSideOptions = {
  /** Interval between bridge readiness probes, in ms (default 30 000). */
  probeIntervalMs?: number;
  /** First retry delay of the readiness probe while the bridge is not ready, in ms (default 1 000; doubles). */
  probeRetryBaseMs?: number;
  /**
   * How long a reason the probe cannot see (session expired, reCAPTCHA, a 429 without retry-after)
   * keeps the bridge out, per reason code, in ms (defaults in upstream/readiness.ts HOLD_MS).
   */
  reasonHoldMs?: Partial<Record<BridgeReasonCode, number>>;
  /** Timeout of one readiness probe, in ms (default 5 000). */
  probeTimeoutMs?: number;
  /** Headers/body idle timeout of bridge requests, in ms (default 420 000). */
  upstreamTimeoutMs?: number;
};

/** `bridge: auto` before anything is built (the dialect sets the concurrency default); undefined otherwise or when nothing answered. */
export async function detectAtStart(
  config: BridgeSettings,
  probeTimeoutMs?: number,
): Promise<Detection | undefined> {
  if (config.bridge !== 'auto') return undefined;
  const probe = new BridgeClient({
    baseUrl: config.upstreamUrl,
    apiKey: config.upstreamApiKey,
    connections: 2,
    probeTimeoutMs,
  });
  const detection = await detectDialect(probe);
  await probe.close();
  return detection;
}

export class BridgeSide<C extends BridgeSettings = BridgeSettings> {
  /** The configuration with the dialect's concurrency when the owner set none. */
  readonly config: C;
  readonly bridge: BridgeClient;
  readonly readiness: Readiness;
  /** What `bridge: auto` found last (undefined: set by the owner, or nothing answered yet). */
  detection: Detection | undefined;
  readonly #log: Logger;

  constructor(
    configured: C,
    /** The owner set max_concurrency: the dialect's default does not apply. */
    ownConcurrency: boolean,
    options: BridgeSideOptions,
    log: Logger,
    detection: Detection | undefined,
  ) {
    this.#log = log;
    this.detection = detection;
    const dialect =
      configured.bridge === 'auto'
        ? (detection?.dialect ?? DIALECTS['lmarenabridge-v2'])
        : (DIALECTS[configured.bridge] ?? DIALECTS['lmarenabridge-v2']);
    // A bridge with one browser serves one request at a time unless its owner says otherwise.
    const config = ownConcurrency ? configured : { ...configured, maxConcurrency: dialect.concurrency };
    this.config = config;
    this.bridge = new BridgeClient({
      baseUrl: config.upstreamUrl,
      apiKey: config.upstreamApiKey,
      connections: config.maxConcurrency + 1,
      timeoutMs: options.upstreamTimeoutMs,
      probeTimeoutMs: options.probeTimeoutMs,
      dialect,
    });
    this.readiness = new Readiness(this.bridge, {
      intervalMs: options.probeIntervalMs,
      retryBaseMs: options.probeRetryBaseMs,
      holdMs: options.reasonHoldMs,
      // Detected once already (startAgent) when it answered: again only after it was unreachable.
      ...(config.bridge === 'auto' ? { detect: () => this.#redetect() } : {}),
    });
    if (detection) this.readiness.skipDetection();
  }

  /** `bridge: auto` again (the bridge was unreachable): true when anything answered. */
  async #redetect(): Promise<boolean> {
    const found = await detectDialect(this.bridge);
    if (!found) return false;
    if (found.dialect !== this.bridge.dialect) {
      // Relays learn the new dialect with the next hello (reconnect); streams already open keep theirs.
      this.#log.warn(
        { from: this.bridge.dialect.name, to: found.dialect.name, evidence: found.evidence },
        'another bridge answers now',
      );
    }
    this.bridge.dialect = found.dialect;
    this.detection = found;
    return true;
  }
}

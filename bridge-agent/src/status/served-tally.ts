/**
 * What the bridge served, for its owner (`served` in `/platform/status`, and `/`): requests since
 * the start and in the last hour, failures by reason with their fix, models with counts, the last
 * errors in plain words. Told once per finished stream (never per chunk) by the stream hub.
 *
 * Memory is fixed whatever the relay or the bridge send: counters, 60 one-minute buckets, a ring
 * of the last errors, at most MAX_MODELS model names (the rest counted as other), every kept
 * string cut and stripped of control and bidi characters. Only the model's name and the failure's
 * message are read: never the prompt or the answer.
 */
import { type OwnerWords, type StreamErrorCode, stripControls, truncateChars } from '@arena-relay/shared';
import type { StreamOutcome } from '../tunnel/relay-stream.js';
import { hasChinese } from '../upstream/bridge-words.js';
import { type FailureKey, failureWords } from './failure-words.js';

/** Distinct model names counted by name; later ones are counted together as other. */
export const MAX_MODELS = 64;
/** Errors kept, newest first. */
export const LAST_ERRORS = 10;
/** Longest model name kept, in UTF-16 units. */
export const MODEL_NAME_MAX = 128;
/** Longest failure message kept, in UTF-16 units. */
export const MESSAGE_MAX = 400;

const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;

export type ServedCounts = { requests: number; succeeded: number; failed: number; cancelled: number };

/** The owner's language for one failure: Chinese when the bridge's words were. */
export type OwnerLang = keyof OwnerWords;

export type ServedFailure = {
  /** A bridge reason code (shared/src/bridge-reasons.ts) or, for a failure without one, its stream error code. */
  reason: FailureKey;
  count: number;
  fix: string;
  fix_zh: string;
  /** Chinese when the bridge's words were, the last time. */
  lang: OwnerLang;
  last_at: string;
};

export type ServedError = {
  at: string;
  model: string | null;
  /** The stream error code sent to the relay. */
  code: StreamErrorCode;
  reason: FailureKey;
  status: number | null;
  /** What the bridge (or the agent) said, cut to MESSAGE_MAX; v2.7.6's Chinese kept beside the English. */
  message: string;
  lang: OwnerLang;
  /** What to do, in `lang`. */
  plain: string;
};

/** `served` in `/platform/status`. */
export type ServedStatus = ServedCounts & {
  since: string;
  last_hour: ServedCounts;
  failures: ServedFailure[];
  /** Most requested first; at most MAX_MODELS. */
  models: { model: string; requests: number; failed: number }[];
  /** Requests for models beyond the first MAX_MODELS names. */
  models_other: { requests: number; failed: number };
  last_errors: ServedError[];
};

type Bucket = ServedCounts & { minute: number };
type ModelCount = { requests: number; failed: number };

const zero = (): ServedCounts => ({ requests: 0, succeeded: 0, failed: 0, cancelled: 0 });

/** A peer's string made short and inert (the length is cut first: no pass over a megabyte). */
function clean(text: string, max: number): string {
  return truncateChars(stripControls(truncateChars(text, max * 4)).trim(), max);
}

export class ServedTally {
  readonly #since: number;
  readonly #total = zero();
  readonly #minutes: Bucket[] = Array.from({ length: HOUR_MINUTES }, () => ({ minute: -1, ...zero() }));
  readonly #failures = new Map<FailureKey, { count: number; lang: OwnerLang; at: number }>();
  readonly #models = new Map<string, ModelCount>();
  readonly #other: ModelCount = { requests: 0, failed: 0 };
  /** A ring: `#errorsNext` is where the next one goes. */
  readonly #errors: ServedError[] = [];
  #errorsNext = 0;

  /** `now`: the clock, in ms (tests move it). */
  constructor(private readonly now: () => number = Date.now) {
    this.#since = now();
  }

  /** One finished stream: its outcome and the model it asked for (undefined when it named none). */
  record(outcome: StreamOutcome, model: unknown): void {
    const at = this.now();
    const field = outcome.kind === 'ended' ? 'succeeded' : outcome.kind === 'failed' ? 'failed' : 'cancelled';
    for (const counts of [this.#total, this.#bucket(at)]) {
      counts.requests++;
      counts[field]++;
    }
    const name = typeof model === 'string' ? clean(model, MODEL_NAME_MAX) : '';
    const byModel = this.#modelCount(name);
    if (byModel) {
      byModel.requests++;
      if (outcome.kind === 'failed') byModel.failed++;
    }
    if (outcome.kind === 'failed') this.#failed(at, name, outcome.failure);
  }

  snapshot(): ServedStatus {
    const nowMinute = Math.floor(this.now() / MINUTE_MS);
    const lastHour = zero();
    for (const bucket of this.#minutes) {
      if (bucket.minute <= nowMinute - HOUR_MINUTES || bucket.minute > nowMinute) continue;
      lastHour.requests += bucket.requests;
      lastHour.succeeded += bucket.succeeded;
      lastHour.failed += bucket.failed;
      lastHour.cancelled += bucket.cancelled;
    }
    const failures = [...this.#failures].map(([reason, seen]) => {
      const words = failureWords(reason);
      const last_at = new Date(seen.at).toISOString();
      return { reason, count: seen.count, fix: words.en, fix_zh: words.zh, lang: seen.lang, last_at };
    });
    const models = [...this.#models].map(([model, counts]) => ({ model, ...counts }));
    return {
      since: new Date(this.#since).toISOString(),
      ...this.#total,
      last_hour: lastHour,
      failures: failures.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      models: models.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model)),
      models_other: { ...this.#other },
      last_errors: [
        ...this.#errors.slice(this.#errorsNext),
        ...this.#errors.slice(0, this.#errorsNext),
      ].reverse(),
    };
  }

  #bucket(at: number): Bucket {
    const minute = Math.floor(at / MINUTE_MS);
    const bucket = this.#minutes[minute % HOUR_MINUTES]!;
    if (bucket.minute !== minute) Object.assign(bucket, { minute, ...zero() });
    return bucket;
  }

  /** The counts of `name`; a new name past MAX_MODELS counts as other; none for a request naming no model. */
  #modelCount(name: string): ModelCount | undefined {
    if (name === '') return undefined;
    let counts = this.#models.get(name);
    if (counts) return counts;
    if (this.#models.size >= MAX_MODELS) return this.#other;
    counts = { requests: 0, failed: 0 };
    this.#models.set(name, counts);
    return counts;
  }

  #failed(at: number, model: string, failure: Extract<StreamOutcome, { kind: 'failed' }>['failure']): void {
    const reason: FailureKey = failure.reason ?? failure.code;
    const message = clean(failure.message, MESSAGE_MAX);
    // The whole message: its Chinese ("bridge's words: …") comes last, maybe past the cut.
    const lang: OwnerLang = hasChinese(truncateChars(failure.message, 8192)) ? 'zh' : 'en';
    const seen = this.#failures.get(reason);
    if (seen) Object.assign(seen, { count: seen.count + 1, lang, at });
    else this.#failures.set(reason, { count: 1, lang, at });
    const words = failureWords(reason);
    const error: ServedError = {
      at: new Date(at).toISOString(),
      model: model || null,
      code: failure.code,
      reason,
      status: failure.status ?? null,
      message,
      lang,
      plain: words[lang],
    };
    if (this.#errors.length < LAST_ERRORS) this.#errors.push(error);
    else this.#errors[this.#errorsNext] = error;
    this.#errorsNext = (this.#errorsNext + 1) % LAST_ERRORS;
  }
}

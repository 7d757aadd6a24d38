/**
 * When and where a link dials again: full-jitter backoff that grows once per round through the
 * relay's addresses (not once per address), and the address of each dial, chosen at dial time
 * because the agent's other links may have moved meanwhile. Moving to the next address on every
 * reconnect lands the agents of a relay that dies on the survivors.
 */
import { type BackoffOptions, fullJitterDelay } from '@arena-relay/shared';

export type RedialOptions = {
  /** `ws(s)://…/agent/connect` addresses, dialled in turn starting with the first. At least one. */
  urls: readonly string[];
  /**
   * Chooses the address of each dial, given the one used last (undefined on the first). By
   * default the addresses are taken in turn, starting with the first.
   */
  pickUrl?: (previous: string | undefined) => string;
  /**
   * Reconnect delays: 0.5 s doubling to a 30 s cap, full jitter, by default. With several
   * addresses the delay grows once per round through them, not per address.
   */
  backoff?: BackoffOptions;
};

export class Redial {
  readonly #options: RedialOptions;
  /** Dials that failed or closed since the last welcome. */
  #failures = 0;

  constructor(options: RedialOptions) {
    if (options.urls.length === 0) throw new Error('RelayLink needs at least one relay URL');
    this.#options = options;
  }

  /** The address of the next dial, given the one used last (undefined: the first dial). */
  next(previous: string | undefined): string {
    const { urls, pickUrl } = this.#options;
    if (pickUrl) return pickUrl(previous);
    return previous === undefined ? urls[0]! : urls[(urls.indexOf(previous) + 1) % urls.length]!;
  }

  /** A socket closed: how long to wait before dialling again, in ms. */
  delay(): number {
    return fullJitterDelay(Math.floor(this.#failures++ / this.#options.urls.length), this.#options.backoff);
  }

  /** A session began: the next failure starts again from the shortest delay. */
  welcomed(): void {
    this.#failures = 0;
  }
}

/**
 * Relays that left the cluster without a goodbye, as this relay saw it: each is "lost" until the
 * cluster is as large again as it was before the loss (a successor has a new relay id, so the
 * lost one never comes back by name).
 */
export class LostRelays {
  readonly #lost = new Map<string, number>();

  /** A relay stopped heartbeating; `clusterSizeBefore` counts it and this relay. */
  gone(relayId: string, saidLeaving: boolean, clusterSizeBefore: number): void {
    if (!saidLeaving) this.#lost.set(relayId, clusterSizeBefore);
  }

  /** The lost relays not yet made up for, given the cluster's size now (this relay included). */
  current(clusterSize: number): string[] {
    for (const [id, before] of this.#lost) if (clusterSize >= before) this.#lost.delete(id);
    return [...this.#lost.keys()];
  }
}

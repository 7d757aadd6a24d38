import { describe, expect, it } from 'vitest';
import { SlotShares } from './slot-shares.js';

/** Sum of what every link holds: never above the total, whatever the relays still believe. */
function heldSum(shares: SlotShares, links: number[]): number {
  return links.reduce((sum, link) => sum + shares.held(link), 0);
}

/** Shares of `total` slots with `links` joined and welcomed, in that order. */
function welcomed(total: number, ...links: number[]): SlotShares {
  const shares = new SlotShares(total);
  for (const link of links) {
    shares.join(link);
    shares.welcomed(link);
  }
  return shares;
}

describe('slot shares', () => {
  it('gives a lone socket every slot', () => {
    const shares = new SlotShares(4);
    expect(shares.join(1)).toBe(4);
  });

  it('lets a second socket grow only once the first relay confirmed its lowered share', () => {
    const shares = welcomed(4, 1);
    expect(shares.join(2)).toBe(0);
    shares.welcomed(2);
    expect(shares.rebalance()).toEqual([{ link: 1, seq: 1, slots: 2 }]);
    // Relay 1 may still act on 4 until it echoes: link 2 gets nothing yet.
    expect(shares.granted(1)).toBe(4);
    expect(heldSum(shares, [1, 2])).toBe(4);
    shares.acked(1, 1);
    expect(shares.rebalance()).toEqual([{ link: 2, seq: 1, slots: 2 }]);
    expect([shares.granted(1), shares.granted(2)]).toEqual([2, 2]);
  });

  it('keeps streams in flight on a going-away socket counted until they end', () => {
    const shares = welcomed(2, 1);
    shares.opened(1);
    shares.opened(1);
    shares.retire(1);
    expect(shares.admits(1)).toBe(false);
    expect(shares.join(2)).toBe(0);
    shares.welcomed(2);
    expect(shares.rebalance()).toEqual([]);
    shares.finished(1);
    expect(shares.rebalance()).toEqual([{ link: 2, seq: 1, slots: 1 }]);
    shares.finished(1);
    shares.leave(1);
    expect(shares.rebalance()).toEqual([{ link: 2, seq: 2, slots: 2 }]);
    expect(heldSum(shares, [1, 2])).toBe(2);
  });

  it('refuses an open beyond the share its relay was given', () => {
    const shares = welcomed(2, 1, 2);
    shares.acked(1, shares.rebalance()[0]!.seq);
    shares.rebalance();
    expect(shares.admits(1)).toBe(true);
    shares.opened(1);
    expect(shares.admits(1)).toBe(false);
  });

  it('frees a closed socket share for the others', () => {
    const shares = welcomed(3, 1, 2);
    const [lower] = shares.rebalance();
    shares.acked(1, lower!.seq);
    shares.rebalance();
    shares.leave(2);
    expect(shares.rebalance()).toEqual([{ link: 1, seq: 2, slots: 3 }]);
  });
});

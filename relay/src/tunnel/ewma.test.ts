import { describe, expect, it } from 'vitest';
import { EWMA_ALPHA, ewma } from './ewma.js';

describe('ewma', () => {
  it('takes the first sample as it is', () => {
    expect(ewma(undefined, 120)).toBe(120);
  });

  it('moves a fifth of the way towards each new sample', () => {
    expect(EWMA_ALPHA).toBe(0.2);
    expect(ewma(100, 200)).toBeCloseTo(120, 10);
    expect(ewma(120, 0)).toBeCloseTo(96, 10);
  });

  it('converges on a steady sample and forgets an old outlier', () => {
    let avg = ewma(undefined, 10_000);
    for (let i = 0; i < 50; i++) avg = ewma(avg, 50);
    expect(avg).toBeGreaterThan(50);
    expect(avg).toBeLessThan(52);
  });

  it('ignores a sample that is not a finite number ≥ 0', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -5]) {
      expect(ewma(80, bad)).toBe(80);
      expect(ewma(undefined, bad)).toBeUndefined();
    }
  });

  it('takes another weight when given one', () => {
    expect(ewma(0, 100, 0.5)).toBe(50);
  });
});

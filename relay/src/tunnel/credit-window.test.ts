/** The relay's credit arithmetic alone: thresholds, the wait for 'drain', a new stream attached. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CreditWindow } from './credit-window.js';

function setup(window: number) {
  const output = new EventEmitter();
  const credit = new CreditWindow(window, output);
  const granted: number[] = [];
  credit.attach({ grant: (bytes) => granted.push(bytes) });
  return { output, credit, granted };
}

describe('CreditWindow', () => {
  it('returns credit in quarters of the window; a tiny window returns every byte', () => {
    const { credit, granted } = setup(400);
    expect(credit.threshold).toBe(100);
    credit.sent(99, true);
    expect(granted).toEqual([]);
    credit.sent(1, true);
    expect(granted).toEqual([100]);
    const tiny = setup(3);
    expect(tiny.credit.threshold).toBe(1);
    tiny.credit.sent(1, true);
    expect(tiny.granted).toEqual([1]);
  });

  it('waits for one drain however many writes were refused, then returns what it held', () => {
    const { output, credit, granted } = setup(400);
    credit.sent(300, false);
    credit.sent(300, false);
    credit.sent(50, true);
    expect(granted).toEqual([]);
    expect(output.listenerCount('drain')).toBe(1);
    output.emit('drain');
    expect(granted).toEqual([650]);
  });

  it("a stream attached after a failure is not granted the old stream's bytes", () => {
    const { output, credit, granted } = setup(400);
    credit.sent(80, false);
    const next: number[] = [];
    credit.attach({ grant: (bytes) => next.push(bytes) });
    output.emit('drain');
    expect(next).toEqual([]);
    credit.sent(100, true);
    expect(next).toEqual([100]);
    expect(granted).toEqual([]);
  });
});

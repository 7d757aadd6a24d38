import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleWatch, type Watched } from './idle-watch.js';

function request(): Watched & { timeouts: number; paused: boolean } {
  return {
    heard: false,
    quiet: 0,
    paused: false,
    timeouts: 0,
    onTimeout() {
      this.timeouts++;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('idle watch', () => {
  it('fires once for a request silent for the limit (not before), and then forgets it', () => {
    vi.useFakeTimers();
    const watch = new IdleWatch(1_000);
    const silent = request();
    watch.add(silent);
    vi.advanceTimersByTime(999);
    expect(silent.timeouts).toBe(0);
    vi.advanceTimersByTime(250);
    expect(silent.timeouts).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(silent.timeouts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a byte now and then, or a pause for credit, keeps a request alive however long', () => {
    vi.useFakeTimers();
    const watch = new IdleWatch(1_000);
    const talking = request();
    const paused = request();
    paused.paused = true;
    watch.add(talking);
    watch.add(paused);
    for (let i = 0; i < 40; i++) {
      talking.heard = true;
      vi.advanceTimersByTime(700);
    }
    expect([talking.timeouts, paused.timeouts]).toEqual([0, 0]);
    // Resumed and silent from here: the whole limit again, not what was left of it.
    paused.paused = false;
    vi.advanceTimersByTime(750);
    expect(paused.timeouts).toBe(0);
    vi.advanceTimersByTime(600);
    expect(paused.timeouts).toBe(1);
    watch.delete(talking);
    expect(vi.getTimerCount()).toBe(0);
  });
});

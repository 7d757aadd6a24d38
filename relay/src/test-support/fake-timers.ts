/** For tests: vitest's fake timers in each test of the calling file or describe block, real ones after. */
import { afterEach, beforeEach, vi } from 'vitest';

export function fakeTimersInEachTest(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

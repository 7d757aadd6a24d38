import { describe, expect, it } from 'vitest';
import { Cooldown } from './cooldown.js';

describe('cooldown', () => {
  it('benches after the threshold, grows the period, and clears on success', () => {
    let now = 0;
    const cooldown = new Cooldown({ threshold: 3, baseMs: 1000, capMs: 3000, now: () => now });
    expect(cooldown.failure('x', 'e1')).toBeUndefined();
    expect(cooldown.failure('x', 'e2')).toBeUndefined();
    expect(cooldown.benched('x')).toBe(false);
    expect(cooldown.failure('x', 'e3')).toBe(1000);
    expect(cooldown.benched('x')).toBe(true);
    expect(cooldown.state('x')).toMatchObject({ trips: 1, reason: 'e3' });
    now = 1000;
    expect(cooldown.benched('x')).toBe(false);
    // On probation a single failure benches again, for twice as long.
    expect(cooldown.failure('x', 'e4')).toBe(2000);
    now = 3000;
    expect(cooldown.failure('x', 'e5')).toBe(3000); // capped
    now = 6000;
    cooldown.success('x');
    expect(cooldown.state('x')).toBeUndefined();
    expect(cooldown.failure('x', 'e6')).toBeUndefined();
  });

  it('tells each bench to its listeners as it happens, and nothing else', () => {
    const cooldown = new Cooldown({ threshold: 2, baseMs: 1000, now: () => 0 });
    const trips: unknown[] = [];
    cooldown.onTrip((trip) => trips.push(trip));
    cooldown.failure('a', 'e');
    expect(trips).toEqual([]);
    cooldown.failure('a', 'e');
    expect(trips).toEqual([{ key: 'a', periodMs: 1000 }]);
    cooldown.success('a');
    expect(trips).toHaveLength(1);
  });
});

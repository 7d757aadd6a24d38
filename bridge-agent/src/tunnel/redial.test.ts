/** The reconnect policy on its own: addresses in turn, a ceiling that grows once per round. */
import { describe, expect, it } from 'vitest';
import { Redial } from './redial.js';

// random() just below 1: every delay is its ceiling minus one.
const backoff = { baseMs: 100, capMs: 1_000, random: () => 0.9999999 };

describe('Redial', () => {
  it('takes the addresses in turn, starting with the first', () => {
    const redial = new Redial({ urls: ['ws://a', 'ws://b', 'ws://c'] });
    expect(redial.next(undefined)).toBe('ws://a');
    expect(redial.next('ws://a')).toBe('ws://b');
    expect(redial.next('ws://c')).toBe('ws://a');
  });

  it('grows the delay once per round through the addresses, and starts over after a welcome', () => {
    const redial = new Redial({ urls: ['ws://a', 'ws://b'], backoff });
    expect([redial.delay(), redial.delay(), redial.delay(), redial.delay()]).toEqual([99, 99, 199, 199]);
    redial.welcomed();
    expect(redial.delay()).toBe(99);
  });

  it('lets the pool choose the address when it wants to', () => {
    const redial = new Redial({ urls: ['ws://a', 'ws://b'], pickUrl: (previous) => previous ?? 'ws://b' });
    expect(redial.next(undefined)).toBe('ws://b');
    expect(redial.next('ws://a')).toBe('ws://a');
  });

  it('refuses an empty address list', () => {
    expect(() => new Redial({ urls: [] })).toThrow(/at least one relay URL/);
  });
});

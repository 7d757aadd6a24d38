import { describe, expect, it } from 'vitest';
import { ERRORS, type RelayErrorCode } from '../errors/relay-error.js';
import { successRate } from '../metrics/figures.js';
import { classifyOutcome } from './outcome.js';

describe('classifyOutcome', () => {
  it('splits every code of the error table into failures and consumer errors by its status', () => {
    for (const code of Object.keys(ERRORS) as RelayErrorCode[]) {
      const expected = ERRORS[code].status < 500 ? 'consumer_error' : 'failed';
      expect([code, classifyOutcome(code)]).toEqual([code, expected]);
    }
  });

  it('names the ones a newcomer would ask about', () => {
    expect(classifyOutcome('ok')).toBe('ok');
    expect(classifyOutcome('consumer_disconnected')).toBe('cancelled');
    expect(classifyOutcome('model_not_found')).toBe('consumer_error');
    expect(classifyOutcome('prompt_too_long')).toBe('consumer_error');
    expect(classifyOutcome('rate_limit_exceeded')).toBe('consumer_error');
    expect(classifyOutcome('no_agents_available')).toBe('failed');
    expect(classifyOutcome('timeout')).toBe('failed');
    expect(classifyOutcome('upstream_unavailable')).toBe('failed');
  });

  it('success rate is ok / (ok + failed), null before either', () => {
    expect(successRate(0, 0)).toBeNull();
    expect(successRate(9, 1)).toBe(0.9);
    expect(successRate(3, 0)).toBe(1);
  });
});

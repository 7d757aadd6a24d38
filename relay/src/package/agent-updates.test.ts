import { describe, expect, it } from 'vitest';
import { offeredVersion } from './agent-updates.js';

describe('offeredVersion', () => {
  it('offers only a higher version than the agent runs, as the policy allows', () => {
    expect(offeredVersion({ mode: 'auto' }, '0.2.0', '0.1.0')).toBe('0.2.0');
    expect(offeredVersion({ mode: 'auto' }, '0.1.0', '0.1.0')).toBe(undefined);
    // An agent already newer (another relay of the cluster shipped more): no downgrade offered.
    expect(offeredVersion({ mode: 'auto' }, '0.1.0', '0.2.0')).toBe(undefined);
    expect(offeredVersion({ mode: 'auto' }, '0.2.0', 'not-semver')).toBe(undefined);
    expect(offeredVersion({ mode: 'off' }, '0.2.0', '0.1.0')).toBe(undefined);
    expect(offeredVersion({ mode: 'pin', version: '0.2.0' }, '0.2.0', '0.1.0')).toBe('0.2.0');
    expect(offeredVersion({ mode: 'pin', version: '0.3.0' }, '0.2.0', '0.1.0')).toBe(undefined);
    expect(offeredVersion({ mode: 'pin', version: '0.1.0' }, '0.1.0', '0.2.0')).toBe(undefined);
  });
});

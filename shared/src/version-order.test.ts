import { describe, expect, it } from 'vitest';
import { compareVersions } from './version-order.js';

describe('compareVersions', () => {
  it('orders releases, pre-releases and their identifiers as semver does', () => {
    const ordered = [
      '0.0.9',
      '0.1.0-alpha',
      '0.1.0-alpha.1',
      '0.1.0-alpha.beta',
      '0.1.0-beta.2',
      '0.1.0-beta.11',
      '0.1.0-rc.1',
      '0.1.0',
      '0.1.1-next',
      '0.1.1',
      '0.2.0',
      '0.10.0',
      '1.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(compareVersions(ordered[i]!, ordered[j]!), `${ordered[i]} vs ${ordered[j]}`).toBe(
          Math.sign(i - j),
        );
      }
    }
  });

  it('ignores build metadata and refuses what is not a version', () => {
    expect(compareVersions('1.0.0+build.7', '1.0.0')).toBe(0);
    for (const bad of ['latest', '1.0', 'v1.0.0', '1.0.0-', '../1.0.0', '1.0.0\n', '01234567890.0.0', '']) {
      expect(compareVersions(bad, '1.0.0'), bad).toBe(undefined);
    }
  });
});

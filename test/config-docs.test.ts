import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELAY_ENV_NAMES } from '../relay/src/config/load-config.js';
import { README_PATH, renderReadme } from '../scripts/config-docs.js';

describe('README configuration tables', () => {
  const readme = readFileSync(README_PATH, 'utf8');

  it('match the config tables (run npm run docs:config after changing one)', () => {
    expect(renderReadme(readme)).toBe(readme);
  });

  it('document every relay variable, once', () => {
    const block = readme.slice(
      readme.indexOf('<!-- relay-config:begin'),
      readme.indexOf('<!-- relay-config:end'),
    );
    const rows = [...block.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(rows).toEqual(RELAY_ENV_NAMES);
  });

  it('refuses a README whose markers are gone, instead of writing the table nowhere', () => {
    expect(() => renderReadme('# no tables here\n')).toThrow(/relay-config:begin/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIELDS } from '../bridge-agent/src/config/schema.js';
import { RELAY_ENV_NAMES } from '../relay/src/config/load-config.js';
import { README_PATH, renderReadme } from '../scripts/config-docs.js';

describe('docs/configuration.md tables', () => {
  const readme = readFileSync(README_PATH, 'utf8');

  it('match the config tables (run npm run docs:config after changing one)', () => {
    expect(renderReadme(readme)).toBe(readme);
  });

  /** The first cell of each row of a generated block, without its backticks. */
  function firstCells(name: string): string[] {
    const block = readme.slice(readme.indexOf(`<!-- ${name}:begin`), readme.indexOf(`<!-- ${name}:end`));
    return [...block.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
  }

  it('document every relay variable and every agent setting, once', () => {
    expect(firstCells('relay-config')).toEqual(RELAY_ENV_NAMES);
    expect(firstCells('agent-config')).toEqual(Object.values(FIELDS).map((field) => field.file));
  });

  it('refuses a README whose markers are gone, instead of writing the table nowhere', () => {
    expect(() => renderReadme('# no tables here\n')).toThrow(/relay-config:begin/);
  });
});

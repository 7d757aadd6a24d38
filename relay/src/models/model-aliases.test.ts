import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { ALIASES_SETTING, AliasBook } from './alias-book.js';
import { aliasConflict, candidateModels } from './model-aliases.js';

const table = new Map([
  ['fast', ['gpt-5-mini', 'claude-haiku-4']],
  ['smart', ['gpt-5', 'claude-opus-4']],
]);

describe('candidateModels', () => {
  it('expands aliases in order, keeps plain models, drops repeats', () => {
    expect(candidateModels(table, 'fast')).toEqual(['gpt-5-mini', 'claude-haiku-4']);
    expect(candidateModels(table, 'gpt-4o')).toEqual(['gpt-4o']);
    expect(candidateModels(table, 'gpt-5-mini', ['fast', 'smart', 'gpt-5'])).toEqual([
      'gpt-5-mini',
      'claude-haiku-4',
      'gpt-5',
      'claude-opus-4',
    ]);
  });

  it('property: every candidate comes from the request or an alias, each once, the first first', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: 'grapheme' }),
        fc.array(fc.string({ unit: 'grapheme' })),
        (m, fb) => {
          const out = candidateModels(table, m, fb);
          expect(new Set(out).size).toBe(out.length);
          expect(out[0]).toBe(table.get(m)?.[0] ?? m);
          const known = new Set([m, ...fb, ...[...table.values()].flat()]);
          for (const model of out) expect(known.has(model)).toBe(true);
        },
      ),
    );
  });
});

describe('aliasConflict', () => {
  it('refuses self-reference, an alias naming an alias, and taking a target name', () => {
    expect(aliasConflict(table, 'x', ['x'])).toMatch(/itself/);
    expect(aliasConflict(table, 'both', ['fast', 'gpt-5'])).toMatch(/'fast' is an alias itself/);
    expect(aliasConflict(table, 'gpt-5', ['gpt-4o'])).toMatch(/alias 'smart' names 'gpt-5'/);
    expect(aliasConflict(table, 'fast', ['gpt-4o'])).toBeUndefined();
  });
});

function memoryStore(initial?: string) {
  const settings = new Map<string, string>(initial === undefined ? [] : [[ALIASES_SETTING, initial]]);
  return {
    settings,
    getSetting: async (name: string) => settings.get(name),
    setSetting: async (name: string, value: string) => void settings.set(name, value),
  };
}

const logger = pino({ level: 'silent' });

describe('AliasBook', () => {
  it('writes through to the store and reads what another relay wrote on load', async () => {
    const store = memoryStore();
    const book = new AliasBook({ store, refreshMs: 60_000, logger });
    await book.load();
    expect(await book.set('fast', ['gpt-5-mini', 'claude-haiku-4'])).toEqual([
      'gpt-5-mini',
      'claude-haiku-4',
    ]);
    expect(book.table.get('fast')).toEqual(['gpt-5-mini', 'claude-haiku-4']);
    const other = new AliasBook({ store, refreshMs: 60_000, logger });
    await other.load();
    expect(other.list()).toEqual({ fast: ['gpt-5-mini', 'claude-haiku-4'] });
    expect(await other.delete('fast')).toBe(true);
    expect(await other.delete('fast')).toBe(false);
    await book.load();
    expect(book.table.size).toBe(0);
  });

  it('refuses bad names and lists with a 400 naming the field', async () => {
    const book = new AliasBook({ store: memoryStore(), refreshMs: 60_000, logger });
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    const badName = await refusal(book.set('-x', ['gpt-5']));
    expect(badName).toBeInstanceOf(RelayError);
    expect((badName as RelayError).status).toBe(400);
    expect(((await refusal(book.set('x', []))) as RelayError).message).toMatch(/^models:/);
    expect(((await refusal(book.set('x', ['a', 'a']))) as RelayError).message).toMatch(/twice/);
    expect(((await refusal(book.set('x', Array(9).fill('m')))) as RelayError).message).toMatch(/^models:/);
  });

  it('keeps what it has when the stored value is not JSON, and skips entries that do not check', async () => {
    const store = memoryStore(JSON.stringify({ ok: ['gpt-5'], 'bad name!': ['x'], empty: [] }));
    const book = new AliasBook({ store, refreshMs: 60_000, logger });
    await book.load();
    expect(book.list()).toEqual({ ok: ['gpt-5'] });
    store.settings.set(ALIASES_SETTING, '{not json');
    await book.load();
    expect(book.list()).toEqual({ ok: ['gpt-5'] });
  });
});

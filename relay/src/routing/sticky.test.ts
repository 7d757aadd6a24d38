import { describe, expect, it } from 'vitest';
import { SESSION_NAME, StickyTable } from './sticky.js';

describe('sticky table', () => {
  it('expires idle pins and evicts the oldest beyond its bound', () => {
    let now = 0;
    const table = new StickyTable(2, 1000, () => now);
    table.set('a', 'agent-1');
    table.set('b', 'agent-2');
    expect(table.get('a')).toBe('agent-1');
    table.set('c', 'agent-3');
    expect(table.size).toBe(2);
    expect(table.get('a')).toBeUndefined();
    now = 2000;
    expect(table.get('b')).toBeUndefined();
  });

  it('accepts only short, plain session names', () => {
    expect(SESSION_NAME.test('conv-42:alice_1.x')).toBe(true);
    for (const bad of ['', 'a'.repeat(129), 'new\nline', 'spa ce', 'ü'])
      expect(SESSION_NAME.test(bad)).toBe(false);
  });
});

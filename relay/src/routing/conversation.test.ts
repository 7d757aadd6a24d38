import { describe, expect, it, vi } from 'vitest';
import { conversationPin, OPENING_CHARS, OPENING_MESSAGES } from './conversation.js';

/** Characters handed to the pin's hash, counted by wrapping node:crypto's createHash. */
const hashed = vi.hoisted(() => ({ chars: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    createHash: (algorithm: string) => {
      const hash = crypto.createHash(algorithm);
      const update = hash.update.bind(hash);
      hash.update = ((data: string) => {
        hashed.chars += data.length;
        return update(data);
      }) as typeof hash.update;
      return hash;
    },
  };
});

const turn1 = {
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hello' },
  ],
};
const turn2 = {
  messages: [
    ...turn1.messages,
    { role: 'assistant', content: 'hi!' },
    { role: 'user', content: 'and then?' },
  ],
};

describe('conversationPin', () => {
  it('one conversation per key, model and opening messages; later turns follow', () => {
    const first = conversationPin('key-1', 'gpt-5', turn1);
    const later = conversationPin('key-1', 'gpt-5', turn2);
    expect(first).toMatchObject({ kind: 'conversation', follow: false });
    expect(later).toMatchObject({ kind: 'conversation', follow: true, key: first?.key });
    expect(first?.key.startsWith('key-1/')).toBe(true);
    for (const other of [
      conversationPin('key-2', 'gpt-5', turn2),
      conversationPin('key-1', 'gpt-4', turn2),
      conversationPin('key-1', 'gpt-5', { messages: [{ role: 'user', content: 'hello' }] }),
      conversationPin('key-1', 'gpt-5', {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hullo' },
        ],
      }),
    ]) {
      expect(other?.key).toBeDefined();
      expect(other?.key).not.toBe(first?.key);
    }
    // Text parts hash like their text; an image part counts by its place only.
    const parts = conversationPin('key-1', 'gpt-5', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url' }] }],
    });
    expect(parts?.key).toBeDefined();
  });

  it('no user message among the opening ones, or no messages: no pin', () => {
    expect(conversationPin('k', 'm', {})).toBeUndefined();
    expect(conversationPin('k', 'm', { messages: 'nope' })).toBeUndefined();
    const systems = Array.from({ length: OPENING_MESSAGES }, () => ({ role: 'system', content: 's' }));
    expect(
      conversationPin('k', 'm', { messages: [...systems, { role: 'user', content: 'late' }] }),
    ).toBeUndefined();
  });

  it('hashes a bounded prefix: a 16 MB opening costs what its first characters cost', () => {
    const huge = 'x'.repeat(16 * 1024 * 1024);
    const messages = [{ role: 'user', content: huge }];
    hashed.chars = 0;
    const pin = conversationPin('k', 'm', { messages });
    // What is hashed is bounded by the budget (plus the key, model, role and separators), not by
    // the 16 MB: counted, not timed, so a loaded machine cannot fail it.
    expect(hashed.chars).toBeLessThan(OPENING_CHARS + 64);
    // Only the first OPENING_CHARS count: a change past them is the same conversation.
    const same = conversationPin('k', 'm', {
      messages: [{ role: 'user', content: `${huge.slice(0, OPENING_CHARS)}y` }],
    });
    expect(same?.key).toBe(pin?.key);
    const manyParts = Array.from({ length: 100_000 }, () => ({ type: 'image_url' }));
    expect(conversationPin('k', 'm', { messages: [{ role: 'user', content: manyParts }] })).toBeDefined();
  });
});

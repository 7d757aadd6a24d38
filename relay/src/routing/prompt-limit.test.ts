import { describe, expect, it } from 'vitest';
import { bridgePromptChars, fitsLimit } from './prompt-limit.js';

const user = (content: unknown) => ({ role: 'user', content });

describe('bridgePromptChars (as CloudWaddie counts)', () => {
  it('the last message, after the system messages joined by blank lines', () => {
    expect(bridgePromptChars({ messages: [user('hello')] })).toBe(5);
    // Earlier turns are not sent upstream: they do not count.
    expect(
      bridgePromptChars({
        messages: [user('x'.repeat(1000)), { role: 'assistant', content: 'a' }, user('hi')],
      }),
    ).toBe(2);
    const systems = [
      { role: 'system', content: 'abc' },
      { role: 'system', content: 'de' },
    ];
    expect(bridgePromptChars({ messages: [...systems, user('hello')] })).toBe(3 + 2 + 2 + 2 + 5);
    // An empty system prompt adds nothing (not even the blank line).
    expect(bridgePromptChars({ messages: [{ role: 'system', content: '' }, user('hello')] })).toBe(5);
  });

  it('code points, and text parts joined by newlines and trimmed; images count nothing', () => {
    expect(bridgePromptChars({ messages: [user('😀é')] })).toBe(2);
    const parts = [
      { type: 'text', text: '  one' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(1000)}` } },
      { type: 'text', text: 'two  ' },
    ];
    expect(bridgePromptChars({ messages: [user(parts)] })).toBe('one\ntwo'.length);
  });

  it('anything that is not a chat body counts 0', () => {
    for (const body of [
      null,
      {},
      { messages: [] },
      { messages: 'x' },
      { messages: [null] },
      { messages: [user(7)] },
    ])
      expect(bridgePromptChars(body)).toBe(0);
  });
});

describe('fitsLimit', () => {
  it('no limit, or a prompt within it', () => {
    expect(fitsLimit({}, 10 ** 9)).toBe(true);
    expect(fitsLimit({ promptLimitChars: 113_567 }, 113_567)).toBe(true);
    expect(fitsLimit({ promptLimitChars: 113_567 }, 113_568)).toBe(false);
  });
});

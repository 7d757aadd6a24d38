import { describe, expect, it } from 'vitest';
import { bridgePromptChars, bridgeTooLong, fitsLimit } from './prompt-limit.js';

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

describe('bridgeTooLong', () => {
  it("reads the counts out of the bridge's own refusal, and only out of that", () => {
    const detail =
      '{"detail":"Prompt too long (113568 characters). LMArena has a character limit of approximately 113567 characters. Please reduce the message size."}';
    const error = bridgeTooLong(detail);
    expect(error).toMatchObject({ code: 'prompt_too_long', status: 400, param: 'messages' });
    expect(error?.message).toMatch(/113568 characters; .* at most 113567/);
    expect(bridgeTooLong('Prompt too long (12 characters)')?.message).toContain('12 characters');
    for (const other of [
      'Last message must have content.',
      'Prompt too long',
      `Prompt too long (${'9'.repeat(20)} characters)`,
    ])
      expect(bridgeTooLong(other)).toBeUndefined();
  });

  it('a hostile 8 KiB message costs nothing much', () => {
    const started = performance.now();
    for (let i = 0; i < 100; i++) bridgeTooLong(`Prompt too long (${'1'.repeat(8192)}`);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

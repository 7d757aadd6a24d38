import { describe, expect, it } from 'vitest';
import { bridgeTooLong } from './prompt-too-long.js';

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

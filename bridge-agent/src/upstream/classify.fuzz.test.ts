import { errorFrame } from '@arena-relay/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyBridgeMessage, classifyStatus, errorDetail } from './classify.js';

/** Text the bridge or LMArena might write: any Unicode, the bridge's own phrases mixed in. */
const bridgeText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 20_000 }),
  fc
    .tuple(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom(
        '状态: 429',
        '人机验证',
        'recaptcha',
        '附件大小超过了',
        'timed out',
        'retry_after": 9999999',
      ),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    )
    .map((parts) => parts.join('')),
);

describe('classify (fuzz)', () => {
  it('turns any message or status into a failure an error frame accepts, never throwing', () => {
    fc.assert(
      fc.property(
        bridgeText,
        fc.integer({ min: 400, max: 599 }),
        fc.option(fc.string()),
        (text, status, retry) => {
          for (const failure of [
            classifyBridgeMessage(text),
            classifyStatus(status, errorDetail(text), retry ?? undefined),
          ]) {
            const parsed = errorFrame.safeParse({ type: 'error', stream: 1, ...failure });
            expect(parsed.success).toBe(true);
            // Bridge-wide failures say why; the others are the request's or the model's.
            if (failure.scope === 'bridge') expect(failure.reason).toBeDefined();
            else expect(failure.reason).toBeUndefined();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

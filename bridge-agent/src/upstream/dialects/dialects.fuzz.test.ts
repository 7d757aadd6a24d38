import { errorFrame } from '@arena-relay/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay } from '../../test-support/replay.js';
import { DIALECTS, type DialectName } from './index.js';

/** SSE-ish pieces a bridge (or something pretending to be one) might send. */
const piece = fc.oneof(
  fc.constantFrom(
    ': keep-alive\n\n',
    ':keepalive\n\n',
    'data: [DONE]\n\n',
    'data: {"error": {"message": "x", "code": 429}}\n\n',
    'data: {"error": "boom"}\n\n',
    'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n',
    'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n',
    'data: {"choices": [{"delta": {"role": "assistant", "content": ""}}]}\n\n',
    'data: {"choices": [{"delta": {"content": "\\n\\n[LMArena Bridge Error]: 人机验证"}}]}\n\n',
    'data: {"choices": null}\n\n',
    'data: {"error": null}\n\n',
    '\r\n\r\n',
    '\n',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

describe('first-event judging (fuzz)', () => {
  it('never throws; every answer ends as a failure an error frame accepts, or with a head and an end', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(DIALECTS) as DialectName[])),
        fc.array(piece, { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        (name, pieces, size, streamed) => {
          const body = Buffer.from(pieces.join(''));
          const type = streamed ? 'text/event-stream' : 'application/json';
          const outcome = replay(
            DIALECTS[name],
            { status: 200, headers: { 'content-type': type }, body },
            size,
          );
          if (outcome.failure) {
            // Before the head, or after it as a mid-stream error: either way an error frame.
            if (outcome.head === undefined) expect(outcome.body).toBe('');
            expect(errorFrame.safeParse({ type: 'error', stream: 1, ...outcome.failure }).success).toBe(true);
          } else {
            expect(outcome).toMatchObject({ head: 200, ended: true });
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

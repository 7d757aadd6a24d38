import { describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk } from '../test-support/fake-bridge.js';
import { BRIDGE_ERROR_MARKER, firstEventError, laterEventError, MarkerScanner } from './in-band-error.js';

const ERROR_EVENT = sseChunk(
  '\n\n[LMArena Bridge Error]: 网络响应不正常。状态: 500. 内容: fake upstream failure',
);

describe('in-band bridge errors', () => {
  it('matches the escaped prefix the bridge writes', () => {
    expect(BRIDGE_ERROR_MARKER.toString()).toBe('\\n\\n[LMArena Bridge Error]: ');
    expect(Buffer.from(ERROR_EVENT).indexOf(BRIDGE_ERROR_MARKER)).toBeGreaterThan(0);
  });

  it('reads the message of a first event that is an error, and nothing from a normal one', () => {
    const event = Buffer.from(ERROR_EVENT.slice(0, -2));
    expect(firstEventError(event)).toBe('网络响应不正常。状态: 500. 内容: fake upstream failure');
    expect(firstEventError(Buffer.from(sseChunk('Hello!')))).toBeUndefined();
    // The phrase inside ordinary model text is not an error.
    expect(firstEventError(Buffer.from(sseChunk('about \n\n[LMArena Bridge Error]: codes')))).toBeUndefined();
  });

  it('reads the message of a later error among other events', () => {
    const chunk = Buffer.from(sseChunk('partial answer') + ERROR_EVENT + SSE_DONE);
    expect(laterEventError(chunk)).toBe('网络响应不正常。状态: 500. 内容: fake upstream failure');
  });

  it('finds the marker inside one chunk and across chunk boundaries, byte by byte', () => {
    const bytes = Buffer.from(sseChunk('fine') + ERROR_EVENT);
    for (const size of [1, 2, 7, 25, 26, 27, bytes.length]) {
      const scanner = new MarkerScanner();
      let found = false;
      for (let at = 0; at < bytes.length && !found; at += size)
        found = scanner.scan(bytes.subarray(at, at + size));
      expect(found, `chunks of ${size} bytes`).toBe(true);
    }
  });

  it('does not fire on normal text, escapes included', () => {
    const bytes = Buffer.from(
      sseChunk('a "quoted" line\\n with \n\n newlines [LMArena] and 你好') + SSE_DONE,
    );
    for (const size of [1, 3, 26, bytes.length]) {
      const scanner = new MarkerScanner();
      for (let at = 0; at < bytes.length; at += size)
        expect(scanner.scan(bytes.subarray(at, at + size))).toBe(false);
    }
  });
});

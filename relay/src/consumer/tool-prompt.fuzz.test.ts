/**
 * Fuzz of the tool-call reply parser: non-ASCII names and arguments round-trip; replies built of
 * calls, almost-calls and text are either valid calls of declared tools (arguments matching the
 * schema) or exactly the text they were, and a stream cut anywhere reads the same as the whole.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderToolCall, type ToolRequest, type ToolSpec } from './tool-prompt.js';
import { readToolReply, ToolReplyStream } from './tool-reply.js';
import { argumentsMatch } from './tool-schema.js';

const unicode = fc.string({ unit: 'grapheme', maxLength: 12 });
const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 });

function streamed(text: string, cuts: number[], request: ToolRequest) {
  const reader = new ToolReplyStream(request);
  let released = '';
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (text.length + 1)).sort((a, b) => a - b), text.length]) {
    released += reader.push(text.slice(at, Math.max(at, cut)));
    at = Math.max(at, cut);
  }
  const end = reader.end();
  return { text: released + end.text, calls: end.calls };
}

describe('tool reply parser (fuzz)', () => {
  it('any declared name and JSON object arguments round-trip through the reply format', () => {
    fc.assert(
      fc.property(name, fc.dictionary(unicode, fc.jsonValue()), unicode, (toolName, args, text) => {
        const request: ToolRequest = {
          tools: [{ name: toolName }],
          choice: { mode: 'auto' },
          parallel: true,
        };
        // JSON turns -0 into 0: compare with what the wire carries.
        const wire = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
        const reply = text.replaceAll('<', '‹') + renderToolCall({ name: toolName, arguments: args });
        const whole = readToolReply(reply, request);
        expect(whole.calls).toEqual([{ name: toolName, arguments: wire }]);
        expect(streamed(reply, [3, 11, 40], request)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  const spec: ToolSpec = {
    name: 'lookup_ünï',
    parameters: {
      type: 'object',
      properties: { q: { type: 'string' }, n: { type: 'integer' }, tags: { type: 'array' } },
      required: ['q'],
    },
  };
  const request: ToolRequest = { tools: [spec], choice: { mode: 'auto' }, parallel: true };
  const args = fc.record(
    {
      q: fc.oneof(unicode, fc.integer()),
      n: fc.oneof(fc.integer(), fc.double(), unicode),
      tags: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  const piece = fc.oneof(
    unicode,
    fc.constantFrom('<tool_call>', '</tool_call>', '<tool_', '{', '}', '"', '\n', '```'),
    args.map((a) => renderToolCall({ name: spec.name, arguments: a })),
    args.map((a) => renderToolCall({ name: 'other', arguments: a })),
    args.map(
      (a) => `<tool_call>${JSON.stringify({ name: spec.name, arguments: a }).slice(0, -1)}</tool_call>`,
    ),
    args.map((a) => `<tool_call>${JSON.stringify({ name: spec.name, arguments: a })}`),
  );

  it('almost-calls: valid calls of declared tools, or the text exactly; streamed the same', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 5 }), (pieces, cuts) => {
        const reply = pieces.join('');
        const whole = readToolReply(reply, request);
        if (whole.calls.length === 0) expect(whole.text).toBe(reply);
        for (const c of whole.calls) {
          expect(c.name).toBe(spec.name);
          expect(argumentsMatch(c.arguments, spec.parameters)).toBe(true);
          expect(typeof c.arguments.q).toBe('string');
        }
        expect(streamed(reply, cuts, request)).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });
});

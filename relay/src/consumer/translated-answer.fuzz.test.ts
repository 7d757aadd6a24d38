/**
 * Fuzz of the translating front-ends with hostile answers: what a modified agent could stream —
 * events cut anywhere (inside UTF-8 characters too), almost-calls, stray `</tool_call>`, fences,
 * `[DONE]` in the middle, lines that never end, raw bytes, broken JSON — through chat with tools,
 * Messages (with and without tools) and Responses, streamed and whole. Whatever comes in, the
 * tap throws nothing but a RelayError (which the Exchange turns into the consumer's error), and
 * what it writes is well-formed: every `data:` line the relay writes is JSON, a stream ends with
 * its API's closing event, a whole answer is one JSON object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { FakeResponse } from '../test-support/fake-response.js';
import { fuzzRuns } from '../test-support/fuzz.js';
import { MeteredRequest } from '../usage/metered-request.js';
import { CompletionAnswer } from './chat/completion-answer.js';
import { MessagesAnswer } from './messages/messages-answer.js';
import { ResponsesAnswer } from './responses/responses-answer.js';
import type { ResponsesRequest } from './responses/responses-request.js';
import type { ToolRequest } from './tool-prompt.js';
import { type AnswerWriter, TranslatedAnswer } from './translated-answer.js';

/** Each run pushes a whole answer through a front-end: fewer than the parsers' 10 000 (FUZZ_RUNS raises it). */
const numRuns = fuzzRuns(500);

const tools: ToolRequest = {
  tools: [
    {
      name: 'echo',
      parameters: {
        type: 'object',
        properties: { text: { type: 'string' }, mode: { enum: ['a', 'b', { x: 1 }] } },
        required: ['text'],
      },
    },
  ],
  choice: { mode: 'auto' },
  parallel: true,
};

type FrontEnd = { name: string; writer: () => AnswerWriter; tools?: ToolRequest; closing: RegExp };
const frontEnds: FrontEnd[] = [
  {
    name: 'chat with tools',
    writer: () => new CompletionAnswer('req_1', 'gpt-5', true),
    tools,
    closing: /data: \[DONE\]\n\n$/,
  },
  {
    name: 'Messages',
    writer: () => new MessagesAnswer('req_1', 'gpt-5', 3),
    closing: /event: message_stop\n/,
  },
  {
    name: 'Messages with tools',
    writer: () => new MessagesAnswer('req_1', 'gpt-5', 3),
    tools,
    closing: /event: message_stop\n/,
  },
  {
    name: 'Responses with tools',
    writer: () => new ResponsesAnswer('req_1', { model: 'gpt-5', input: 'hi' } as ResponsesRequest, 3),
    tools,
    closing: /event: response\.(completed|incomplete)\n/,
  },
];

/** Text a model (or a hostile agent posing as one) might put in a delta. */
const fragment = fc.oneof(
  fc.constantFrom(
    '<tool_call>',
    '</tool_call>',
    '<tool_',
    '{"name": "echo", "arguments": {"text": "hi"}}',
    '{"name": "echo", "arguments": {"text": "x", "mode": {"x": 1}}}',
    '{"name": "echo", "arguments": "{\\"text\\": \\"s\\"}"}',
    '{"name": "nope", "arguments": {}}',
    '```json\n',
    '```',
    '   \n\t ',
    'data: [DONE]',
    '\u0000\u001b[2J',
    '😀é',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

/** One piece of the answer's bytes. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.array(fragment, { maxLength: 4 }).map((parts) => event(parts.join(''))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('data: [DONE]\n\n', 'data: {"choices": [{"finish_reason": "length"}]}\n\n'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `data: ${s}\n`) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('data: {"choices": [{"delta": {"content": "unended', ': comment\n', '\r\n'),
  },
);

function event(content: string): string {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
}

/** The answer's bytes cut at `cuts` (byte offsets: UTF-8 characters may be split). */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > from) out.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return out;
}

/** Every `data:` line the relay wrote parses as JSON (or is `[DONE]`). */
function wellFormedEvents(body: string): void {
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6);
    if (data !== '[DONE]') expect(() => JSON.parse(data), data.slice(0, 200)).not.toThrow();
  }
}

function serve(fe: FrontEnd, stream: boolean, payloads: Buffer[]) {
  const metered = new MeteredRequest({
    requestId: 'req_1',
    model: 'gpt-5',
    body: { messages: [] },
    includeUsage: false,
  });
  const tap = new TranslatedAnswer(metered, fe.writer(), stream, fe.tools);
  const res = new FakeResponse();
  let thrown: unknown;
  try {
    tap.head(res.asResponse(), 200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
    for (const payload of payloads) tap.write(res.asResponse(), payload);
    tap.end(res.asResponse());
  } catch (error) {
    thrown = error;
  }
  return { res, thrown };
}

describe('translating front-ends with hostile answers (fuzz)', () => {
  for (const fe of frontEnds) {
    it(`${fe.name}, streamed: only RelayErrors, and well-formed events ending in the closing one`, () => {
      fc.assert(
        fc.property(
          fc.array(piece, { maxLength: 20 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          (pieces, cuts) => {
            const { res, thrown } = serve(fe, true, chunks(Buffer.from(pieces.join('')), cuts));
            if (thrown !== undefined) expect(thrown).toBeInstanceOf(RelayError);
            expect(res.status).toBe(200);
            wellFormedEvents(res.body);
            if (thrown === undefined) expect(res.body).toMatch(fe.closing);
          },
        ),
        { numRuns },
      );
    });

    it(`${fe.name}, whole: only RelayErrors, and one JSON object (the answer or an error)`, () => {
      const whole = fc.oneof(
        fc
          .array(fragment, { maxLength: 6 })
          .map((parts) =>
            JSON.stringify({ choices: [{ message: { content: parts.join('') }, finish_reason: 'stop' }] }),
          ),
        fc.string({ maxLength: 60 }),
        fc.jsonValue().map((v) => JSON.stringify({ choices: [{ message: { content: v } }] })),
      );
      fc.assert(
        fc.property(whole, fc.array(fc.nat(), { maxLength: 6 }), (body, cuts) => {
          const { res, thrown } = serve(fe, false, chunks(Buffer.from(body), cuts));
          expect(thrown).toBeUndefined();
          expect(res.status === 200 || res.status >= 500).toBe(true);
          expect(() => JSON.parse(res.body)).not.toThrow();
        }),
        { numRuns },
      );
    });
  }
});

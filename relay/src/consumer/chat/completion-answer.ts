/**
 * The bridge's chat answer re-written as a chat completion, for chat requests the relay had to
 * translate (those with tools): a `chat.completion` object, or `chat.completion.chunk` events
 * ending in `data: [DONE]`. Tool calls parsed from the reply are `message.tool_calls` with
 * `finish_reason: "tool_calls"`, streamed as one `delta.tool_calls` chunk per call. With
 * `include_usage` the usage chunk precedes `[DONE]`, as OpenAI's does.
 */
import { randomBytes } from 'node:crypto';
import type { RelayError } from '../../errors/relay-error.js';
import type { RequestUsage } from '../../proxy/observer.js';
import { sseData } from '../sse.js';
import type { ToolCall } from '../tool-prompt.js';
import type { AnswerEnd, AnswerWriter, WholeAnswer } from '../translated-answer.js';

const callId = () => `call_${randomBytes(12).toString('base64url')}`;

/** OpenAI's `finish_reason` for the bridge's (it writes `content-filter`). */
function finishReason(reason: string | null): string {
  if (reason === 'content-filter') return 'content_filter';
  return reason ?? 'stop';
}

const usageOf = (u: RequestUsage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.totalTokens,
});

export class CompletionAnswer implements AnswerWriter {
  readonly errorShape = 'openai';
  readonly #id: string;
  readonly #created = Math.floor(Date.now() / 1000);

  constructor(
    requestId: string,
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {
    this.#id = `chatcmpl-${requestId.replace(/^req_/, '')}`;
  }

  open(): string {
    return this.#chunk({ role: 'assistant', content: '' }, null);
  }

  text(delta: string): string {
    return this.#chunk({ content: delta }, null);
  }

  calls(calls: ToolCall[]): string {
    return calls
      .map((call, index) => this.#chunk({ tool_calls: [{ index, ...this.#call(call) }] }, null))
      .join('');
  }

  close(end: AnswerEnd): string {
    let out = this.#chunk({}, finishReason(end.finishReason));
    if (this.includeUsage) {
      out += sseData({ ...this.#base('chat.completion.chunk'), choices: [], usage: usageOf(end.usage) });
    }
    return `${out}data: [DONE]\n\n`;
  }

  fail(error: RelayError): string {
    return sseData(error.body());
  }

  whole(answer: WholeAnswer, end: AnswerEnd): unknown {
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: answer.text === '' && answer.calls.length > 0 ? null : answer.text,
      refusal: null,
    };
    if (answer.calls.length > 0) message.tool_calls = answer.calls.map((call) => this.#call(call));
    return {
      ...this.#base('chat.completion'),
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(end.finishReason) }],
      usage: usageOf(end.usage),
    };
  }

  #call(call: ToolCall) {
    return {
      id: callId(),
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    };
  }

  #base(object: string) {
    return { id: this.#id, object, created: this.#created, model: this.model };
  }

  #chunk(delta: unknown, finish: string | null): string {
    return sseData({
      ...this.#base('chat.completion.chunk'),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  }
}

/**
 * The bridge's chat answer as an OpenAI Responses API answer: a `response` object, or the event
 * stream the `openai` SDK accumulates (`response.created`, `response.in_progress`, for the text
 * a message item — `output_item.added`, `content_part.added`, `output_text.delta`…,
 * `output_text.done`, `content_part.done`, `output_item.done` — then one `function_call` item
 * per parsed tool call, and `response.completed` with usage). A failure after the 200 is
 * `response.failed`; an answer cut by length or the arena's filter is `response.incomplete`.
 * Every event carries its `sequence_number`. The streamed text is kept for the closing events,
 * so it has a cap (answer-limits.ts).
 */
import { randomBytes } from 'node:crypto';
import { responsesError } from '../../errors/error-shapes.js';
import type { RelayError } from '../../errors/relay-error.js';
import type { RequestUsage } from '../../proxy/observer.js';
import { answerTooLarge, STREAMED_TEXT_LIMIT } from '../answer-limits.js';
import { sseEvent } from '../sse.js';
import type { ToolCall } from '../tool-prompt.js';
import type { AnswerEnd, AnswerWriter, WholeAnswer } from '../translated-answer.js';
import type { ResponsesRequest } from './responses-request.js';

const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

type MessageItem = {
  id: string;
  type: 'message';
  role: 'assistant';
  status: string;
  content: { type: 'output_text'; text: string; annotations: never[]; logprobs: never[] }[];
};
type CallItem = {
  id: string;
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
  status: string;
};
type Item = MessageItem | CallItem;

/** The response's status and why it is incomplete, for the bridge's finish reason. */
function ending(finishReason: string | null) {
  if (finishReason === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content-filter' || finishReason === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

const usageOf = (u: RequestUsage) => ({
  input_tokens: u.promptTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: u.completionTokens,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: u.totalTokens,
});

export class ResponsesAnswer implements AnswerWriter {
  readonly errorShape = 'openai';
  readonly #id: string;
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #output: Item[] = [];
  /** The message item while its text streams (kept whole: `output_text.done` repeats it). */
  #message: MessageItem | undefined;
  #streamed = 0;
  #sequence = 0;

  constructor(
    requestId: string,
    private readonly request: ResponsesRequest,
    private readonly promptTokens: number,
  ) {
    this.#id = `resp_${requestId.replace(/^req_/, '')}`;
  }

  open(): string {
    const response = this.#response({ status: 'in_progress', incomplete_details: null }, null);
    return this.#event('response.created', { response }) + this.#event('response.in_progress', { response });
  }

  /** Throws a RelayError once the streamed text passes STREAMED_TEXT_LIMIT (it is kept, see `#message`). */
  text(delta: string): string {
    this.#streamed += delta.length;
    if (this.#streamed > STREAMED_TEXT_LIMIT) {
      throw answerTooLarge(`streamed text over ${STREAMED_TEXT_LIMIT} characters`);
    }
    let out = '';
    if (!this.#message) {
      const item = this.#newMessage('');
      item.status = 'in_progress';
      this.#message = item;
      const output_index = this.#output.length;
      this.#output.push(item);
      out += this.#event('response.output_item.added', { output_index, item: { ...item, content: [] } });
      out += this.#event('response.content_part.added', {
        item_id: item.id,
        output_index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    }
    const item = this.#message;
    item.content[0]!.text += delta;
    const at = { item_id: item.id, output_index: this.#output.indexOf(item), content_index: 0 };
    return out + this.#event('response.output_text.delta', { ...at, delta, logprobs: [] });
  }

  calls(calls: ToolCall[]): string {
    let out = this.#endMessage();
    for (const call of calls) {
      const item = this.#newCall(call);
      const output_index = this.#output.length;
      this.#output.push(item);
      out += this.#event('response.output_item.added', {
        output_index,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      const at = { item_id: item.id, output_index };
      out += this.#event('response.function_call_arguments.delta', { ...at, delta: item.arguments });
      out += this.#event('response.function_call_arguments.done', {
        ...at,
        name: item.name,
        arguments: item.arguments,
      });
      out += this.#event('response.output_item.done', { output_index, item });
    }
    return out;
  }

  close(end: AnswerEnd): string {
    // An empty answer still has its (empty) message, as a plain text answer would.
    let out = this.#output.length === 0 ? this.text('') : '';
    out += this.#endMessage();
    const state = ending(end.finishReason);
    const name = state.status === 'completed' ? 'response.completed' : 'response.incomplete';
    return out + this.#event(name, { response: this.#response(state, end.usage) });
  }

  fail(error: RelayError): string {
    if (this.#message) this.#message.status = 'incomplete';
    this.#message = undefined;
    const response = {
      ...this.#response({ status: 'failed', incomplete_details: null }, null),
      error: responsesError(error),
    };
    return this.#event('response.failed', { response });
  }

  whole(answer: WholeAnswer, end: AnswerEnd): unknown {
    if (answer.text !== '' || answer.calls.length === 0) this.#output.push(this.#newMessage(answer.text));
    for (const call of answer.calls) this.#output.push(this.#newCall(call));
    return this.#response(ending(end.finishReason), end.usage);
  }

  /** Closes the streaming message item: its done events. */
  #endMessage(): string {
    const item = this.#message;
    if (!item) return '';
    this.#message = undefined;
    item.status = 'completed';
    const part = item.content[0]!;
    const at = { item_id: item.id, output_index: this.#output.indexOf(item), content_index: 0 };
    return (
      this.#event('response.output_text.done', { ...at, text: part.text, logprobs: [] }) +
      this.#event('response.content_part.done', { ...at, part }) +
      this.#event('response.output_item.done', { output_index: at.output_index, item })
    );
  }

  #newMessage(text: string): MessageItem {
    return {
      id: rid('msg'),
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    };
  }

  #newCall(call: ToolCall): CallItem {
    return {
      id: rid('fc'),
      type: 'function_call',
      call_id: rid('call'),
      name: call.name,
      arguments: JSON.stringify(call.arguments),
      status: 'completed',
    };
  }

  #event(type: string, data: Record<string, unknown>): string {
    return sseEvent(type, { type, sequence_number: this.#sequence++, ...data });
  }

  #response(state: { status: string; incomplete_details: unknown }, usage: RequestUsage | null) {
    const r = this.request;
    return {
      id: this.#id,
      object: 'response',
      created_at: this.#created,
      ...state,
      error: null,
      instructions: r.instructions ?? null,
      max_output_tokens: r.max_output_tokens ?? null,
      model: r.model,
      output: structuredClone(this.#output),
      parallel_tool_calls: r.parallel_tool_calls ?? true,
      previous_response_id: null,
      store: false,
      background: false,
      temperature: r.temperature ?? null,
      top_p: r.top_p ?? null,
      tool_choice: r.tool_choice ?? 'auto',
      tools: r.tools ?? [],
      text: { format: { type: 'text' } },
      truncation: 'disabled',
      metadata: {},
      usage: usage
        ? usageOf(usage)
        : usageOf({
            promptTokens: this.promptTokens,
            completionTokens: 0,
            totalTokens: this.promptTokens,
            estimated: true,
          }),
    };
  }
}

/**
 * The bridge's chat answer as an Anthropic Messages answer: a `message` object, or the named
 * event stream the Anthropic SDKs read (`message_start`, `content_block_start`, `ping`,
 * `content_block_delta`…, `content_block_stop`, `message_delta` with `stop_reason` and usage,
 * `message_stop`; `error` for a failure after the 200). Token counts are the relay's estimates
 * (usage/estimate.ts), the same the relay meters.
 */
import { anthropicErrorBody } from '../errors/error-shapes.js';
import type { RelayError } from '../errors/relay-error.js';
import type { ChatAnswer } from './chat-answer.js';
import { sseEvent } from './sse.js';
import type { AnswerEnd, AnswerWriter } from './translated-answer.js';

/** Anthropic's `stop_reason` for a chat `finish_reason` (the bridge writes `content-filter`). */
export function stopReason(finishReason: string | null): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content-filter':
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export class MessagesAnswer implements AnswerWriter {
  readonly errorShape = 'anthropic';
  readonly #id: string;
  /** True while the text block is open (one text block per answer). */
  #blockOpen = false;

  constructor(
    requestId: string,
    private readonly model: string,
    private readonly promptTokens: number,
  ) {
    this.#id = `msg_${requestId.replace(/^req_/, '')}`;
  }

  open(): string {
    const message = {
      id: this.#id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.promptTokens, output_tokens: 0 },
    };
    return sseEvent('message_start', { type: 'message_start', message }) + sseEvent('ping', { type: 'ping' });
  }

  text(delta: string): string {
    return (
      this.#startBlock() +
      sseEvent('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: delta },
      })
    );
  }

  close(end: AnswerEnd): string {
    // An empty answer still has its (empty) text block, as Anthropic's own do.
    const block =
      this.#startBlock() + sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 });
    return (
      block +
      sseEvent('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(end.finishReason), stop_sequence: null },
        usage: { input_tokens: end.usage.promptTokens, output_tokens: end.usage.completionTokens },
      }) +
      sseEvent('message_stop', { type: 'message_stop' })
    );
  }

  fail(error: RelayError): string {
    return sseEvent('error', anthropicErrorBody(error));
  }

  whole(answer: ChatAnswer, end: AnswerEnd): unknown {
    return {
      id: this.#id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [{ type: 'text', text: answer.text }],
      stop_reason: stopReason(end.finishReason),
      stop_sequence: null,
      usage: { input_tokens: end.usage.promptTokens, output_tokens: end.usage.completionTokens },
    };
  }

  #startBlock(): string {
    if (this.#blockOpen) return '';
    this.#blockOpen = true;
    return sseEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
  }
}

/**
 * The bridge's chat answer as an Anthropic Messages answer: a `message` object, or the named
 * event stream the Anthropic SDKs read (`message_start`, `content_block_start`, `ping`,
 * `content_block_delta`…, `content_block_stop`, `message_delta` with `stop_reason` and usage,
 * `message_stop`; `error` for a failure after the 200). Tool calls parsed from the reply are
 * `tool_use` blocks after the text block (streamed as `content_block_start` + one
 * `input_json_delta`). Token counts are the relay's estimates (usage/estimate.ts), the same the
 * relay meters.
 */
import { randomBytes } from 'node:crypto';
import { anthropicErrorBody } from '../../errors/error-shapes.js';
import type { RelayError } from '../../errors/relay-error.js';
import { sseEvent } from '../sse.js';
import type { ToolCall } from '../tool-prompt.js';
import type { AnswerEnd, AnswerWriter, WholeAnswer } from '../translated-answer.js';

const toolUseId = () => `toolu_${randomBytes(12).toString('base64url')}`;

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
  /** True while the text block is open (one text block per answer, at index 0). */
  #blockOpen = false;
  /** Blocks started so far (the next block's index). */
  #blocks = 0;

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

  calls(calls: ToolCall[]): string {
    let out = this.#stopText();
    for (const call of calls) {
      const index = this.#blocks++;
      out +=
        sseEvent('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: toolUseId(), name: call.name, input: {} },
        }) +
        sseEvent('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(call.arguments) },
        }) +
        sseEvent('content_block_stop', { type: 'content_block_stop', index });
    }
    return out;
  }

  close(end: AnswerEnd): string {
    // An empty answer still has its (empty) text block, as Anthropic's own do.
    const block = this.#blocks === 0 ? this.#startBlock() : '';
    return (
      block +
      this.#stopText() +
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

  whole(answer: WholeAnswer, end: AnswerEnd): unknown {
    const content: unknown[] = [];
    if (answer.text !== '' || answer.calls.length === 0) content.push({ type: 'text', text: answer.text });
    for (const call of answer.calls) {
      content.push({ type: 'tool_use', id: toolUseId(), name: call.name, input: call.arguments });
    }
    return {
      id: this.#id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content,
      stop_reason: stopReason(end.finishReason),
      stop_sequence: null,
      usage: { input_tokens: end.usage.promptTokens, output_tokens: end.usage.completionTokens },
    };
  }

  #startBlock(): string {
    if (this.#blockOpen) return '';
    this.#blockOpen = true;
    this.#blocks++;
    return sseEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
  }

  #stopText(): string {
    if (!this.#blockOpen) return '';
    this.#blockOpen = false;
    return sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 });
  }
}

/**
 * The tap that serves an API other than chat completions from the bridge's chat answer: the
 * bridge's bytes are metered as they are (so usage counts the same for every front-end), read
 * as text (consumer/bridge-answer.ts) and written as the front-end's own events or object by its
 * `AnswerWriter`. A stream opens with the 200 and translates each payload as it arrives; a
 * non-stream answer is held until it is whole, then answered (or refused) in one piece. With
 * tools declared, the text goes through the tool-call reader (tool-prompt.ts): text that cannot
 * be part of a call streams at once, a reply from its first `<tool_call>` on is held to the end,
 * then written as calls (or as the text it was, when it does not parse). Everything held has a
 * cap (answer-limits.ts): `write` throws past it, and the Exchange's guard fails the request.
 */
import type { ServerResponse } from 'node:http';
import { type ErrorShape, errorResponse } from '../errors/error-shapes.js';
import { RelayError, type RelayErrorCode, toRelayError } from '../errors/relay-error.js';
import type { ResponseTap } from '../proxy/exchange.js';
import type { RequestUsage } from '../proxy/observer.js';
import type { MeteredRequest } from '../usage/metered-request.js';
import { ANSWER_LIMIT, answerTooLarge } from './answer-limits.js';
import { type ChatAnswer, ChatStreamReader, chatAnswerOf } from './bridge-answer.js';
import type { ToolCall, ToolRequest } from './tool-prompt.js';
import { readToolReply, ToolReplyStream } from './tool-reply.js';

/** How the answer ended, for the closing events or the whole object. */
export type AnswerEnd = { finishReason: string | null; usage: RequestUsage };

/** A whole answer: its text and the tool calls parsed from it (none without tools). */
export type WholeAnswer = ChatAnswer & { calls: ToolCall[] };

/** One API's rendering of an answer. Stream methods return the SSE text to write. */
export interface AnswerWriter {
  /** The shape of this API's errors (for a refusal that replaces a whole answer). */
  readonly errorShape: ErrorShape;
  /** Stream: the events that open the answer, written just after the 200 head. */
  open(): string;
  /** Stream: the events for the next piece of text. */
  text(delta: string): string;
  /** Stream: the events for the tool calls that end the answer (after all its text). */
  calls(calls: ToolCall[]): string;
  /** Stream: the events that close a complete answer. */
  close(end: AnswerEnd): string;
  /** Stream: the events that report a failure after the 200 went out. */
  fail(error: RelayError): string;
  /** Non-stream: the answer object. */
  whole(answer: WholeAnswer, end: AnswerEnd): unknown;
}

export class TranslatedAnswer implements ResponseTap {
  readonly #reader = new ChatStreamReader();
  #headers: Record<string, string> = {};
  #status = 0;
  /** True once a stream's 200 and opening events went out. */
  #open = false;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #tools: ToolReplyStream | undefined;

  constructor(
    private readonly metered: MeteredRequest,
    private readonly writer: AnswerWriter,
    private readonly stream: boolean,
    private readonly tools?: ToolRequest,
  ) {
    this.#tools = tools && stream ? new ToolReplyStream(tools) : undefined;
  }

  head(res: ServerResponse, status: number, headers: Record<string, string>): void {
    this.#headers = headers;
    this.#status = status;
    // Opened early (keep-alives): the stream's head and opening events are out already.
    if (this.#open || !this.stream || status < 200 || status >= 300) return;
    this.openEarly(res, headers);
  }

  /** The stream's 200 and its API's opening events. */
  openEarly(res: ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(this.writer.open());
    this.#open = true;
  }

  write(res: ServerResponse, payload: Buffer): boolean {
    this.metered.observe(payload);
    if (this.#open) {
      let out = '';
      this.#reader.push(payload, (text) => {
        out += this.#text(text);
      });
      return out === '' || res.write(out);
    }
    this.#size += payload.length;
    // Past the cap the Exchange's guard fails the request and cancels the agent.
    if (this.#size > ANSWER_LIMIT) throw answerTooLarge(`a body over ${ANSWER_LIMIT} bytes`);
    this.#chunks.push(payload);
    return true;
  }

  end(res: ServerResponse): RelayErrorCode | undefined {
    if (this.#open) {
      let out = '';
      this.#reader.end((text) => {
        out += this.#text(text);
      });
      let finishReason = this.#reader.finishReason;
      if (this.#tools) {
        const { text, calls } = this.#tools.end();
        if (text) out += this.writer.text(text);
        if (calls.length > 0) {
          out += this.writer.calls(calls);
          finishReason = 'tool_calls';
        }
      }
      res.write(out + this.writer.close({ finishReason, usage: this.metered.usage(true) }));
      return undefined;
    }
    try {
      const chat = chatAnswerOf(this.#body());
      const answer: WholeAnswer = this.tools
        ? { ...chat, ...readToolReply(chat.text, this.tools) }
        : { ...chat, calls: [] };
      if (answer.calls.length > 0) answer.finishReason = 'tool_calls';
      const end = { finishReason: answer.finishReason, usage: this.metered.usage(true) };
      res.writeHead(200, { ...this.#headers, 'content-type': 'application/json' });
      res.write(JSON.stringify(this.writer.whole(answer, end)));
      return undefined;
    } catch (thrown) {
      const error = toRelayError(thrown);
      this.#refuse(res, error);
      return error.code;
    }
  }

  /** Only a non-stream answer can fail unseen (a stream opens at its head): drop what it held. */
  restart(): void {
    this.#chunks.length = 0;
    this.#size = 0;
    this.metered.restart();
  }

  fail(res: ServerResponse, error: RelayError): void {
    if (this.#open) return void res.end(this.writer.fail(error));
    if (res.headersSent) return void res.destroy();
    this.#refuse(res, error);
    res.end();
  }

  /** The events for a piece of the bridge's text ('' while the tool-call reader holds it). */
  #text(text: string): string {
    const out = this.#tools ? this.#tools.push(text) : text;
    return out === '' ? '' : this.writer.text(out);
  }

  /** The whole non-stream body, or why it cannot be translated. */
  #body(): string {
    const body = Buffer.concat(this.#chunks, this.#size).toString('utf8');
    if (this.#status < 200 || this.#status >= 300) {
      throw new RelayError('upstream_error', `the bridge answered ${this.#status}`);
    }
    return body;
  }

  #refuse(res: ServerResponse, error: RelayError): void {
    const { status, body } = errorResponse(this.writer.errorShape, error);
    res.writeHead(status, { ...this.#headers, ...error.headers(), 'content-type': 'application/json' });
    res.write(JSON.stringify(body));
  }
}

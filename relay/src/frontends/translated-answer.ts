/**
 * The tap that serves an API other than chat completions from the bridge's chat answer: the
 * bridge's bytes are metered as they are (so usage counts the same for every front-end), read
 * as text (frontends/chat-answer.ts) and written as the front-end's own events or object by its
 * `AnswerWriter`. A stream opens with the 200 and translates each payload as it arrives; a
 * non-stream answer is held until it is whole, then answered (or refused) in one piece.
 */
import type { ServerResponse } from 'node:http';
import { type ErrorShape, errorResponse } from '../errors/error-shapes.js';
import { RelayError, type RelayErrorCode, toRelayError } from '../errors/relay-error.js';
import type { ResponseTap } from '../proxy/exchange.js';
import type { MeteredRequest, MeteredUsage } from '../usage/metered-request.js';
import { type ChatAnswer, ChatStreamReader, chatAnswerOf } from './chat-answer.js';

/** Largest non-stream answer held for translation; larger is an upstream error. */
export const ANSWER_LIMIT = 16 * 1024 * 1024;

/** How the answer ended, for the closing events or the whole object. */
export type AnswerEnd = { finishReason: string | null; usage: MeteredUsage };

/** One API's rendering of an answer. Stream methods return the SSE text to write. */
export interface AnswerWriter {
  /** The shape of this API's errors (for a refusal that replaces a whole answer). */
  readonly errorShape: ErrorShape;
  /** Stream: the events that open the answer, written just after the 200 head. */
  open(): string;
  /** Stream: the events for the next piece of text. */
  text(delta: string): string;
  /** Stream: the events that close a complete answer. */
  close(end: AnswerEnd): string;
  /** Stream: the events that report a failure after the 200 went out. */
  fail(error: RelayError): string;
  /** Non-stream: the answer object. */
  whole(answer: ChatAnswer, end: AnswerEnd): unknown;
}

export class TranslatedAnswer implements ResponseTap {
  readonly #reader = new ChatStreamReader();
  #headers: Record<string, string> = {};
  #status = 0;
  /** True once a stream's 200 and opening events went out. */
  #open = false;
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    private readonly metered: MeteredRequest,
    private readonly writer: AnswerWriter,
    private readonly stream: boolean,
  ) {}

  head(res: ServerResponse, status: number, headers: Record<string, string>): void {
    this.#headers = headers;
    this.#status = status;
    if (!this.stream || status < 200 || status >= 300) return;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(this.writer.open());
    this.#open = true;
  }

  write(res: ServerResponse, payload: Buffer): boolean {
    this.metered.observe(payload);
    if (this.#open) {
      let out = '';
      this.#reader.push(payload, (text) => {
        out += this.writer.text(text);
      });
      return out === '' || res.write(out);
    }
    if (this.#size + payload.length <= ANSWER_LIMIT) this.#chunks.push(payload);
    this.#size += payload.length;
    return true;
  }

  end(res: ServerResponse): RelayErrorCode | undefined {
    if (this.#open) {
      let out = '';
      this.#reader.end((text) => {
        out += this.writer.text(text);
      });
      const end = { finishReason: this.#reader.finishReason, usage: this.metered.usage(true) };
      res.write(out + this.writer.close(end));
      return undefined;
    }
    try {
      const answer = chatAnswerOf(this.#body());
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

  /** The whole non-stream body, or why it cannot be translated. */
  #body(): string {
    if (this.#size > ANSWER_LIMIT) {
      throw new RelayError('upstream_error', `the bridge answered with over ${ANSWER_LIMIT} bytes`);
    }
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

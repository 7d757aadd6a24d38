/**
 * Reads the bridge's answer — OpenAI chat completion chunks as SSE, or one chat completion JSON
 * body — as what the front-ends translate: the text and the finish reason. The bridge writes one
 * `data:` line per event (LMARENABRIDGE.md); events and UTF-8 characters may be cut anywhere
 * between payloads. Reading is linear: each payload is searched for a newline once, and a line
 * whose newline has not come yet is held (at most SSE_LINE_LIMIT of it) and read once.
 */
import { StringDecoder } from 'node:string_decoder';
import { RelayError } from '../errors/relay-error.js';
import { answerTooLarge, SSE_LINE_LIMIT } from './answer-limits.js';

type ChunkJson = { choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[] };
type CompletionJson = { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[] };

/** Incremental reader of a chat completion event stream. */
export class ChatStreamReader {
  readonly #decoder = new StringDecoder('utf8');
  /**
   * The unfinished line. Appending makes a rope (O(1)) that is never searched: only new text is
   * looked at for a newline, and the line is flattened once, when it is read.
   */
  #rest = '';
  /** The last `finish_reason` seen (the bridge's `"stop"`, `"content-filter"` …), or null. */
  finishReason: string | null = null;

  /**
   * Reads `payload`; `onText` gets each content delta, in order. Throws a RelayError when a line
   * grows past SSE_LINE_LIMIT without its newline.
   */
  push(payload: Buffer, onText: (text: string) => void): void {
    const text = this.#decoder.write(payload);
    let end = text.indexOf('\n');
    if (end === -1) return this.#hold(this.#rest + text);
    this.#line(this.#rest + text.slice(0, end), onText);
    let start = end + 1;
    for (end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      this.#line(text.slice(start, end), onText);
      start = end + 1;
    }
    this.#hold(text.slice(start));
  }

  /** The stream ended: reads a last line that had no newline. */
  end(onText: (text: string) => void): void {
    const last = this.#rest + this.#decoder.end();
    this.#rest = '';
    if (last) this.#line(last, onText);
  }

  #hold(rest: string): void {
    if (rest.length > SSE_LINE_LIMIT) {
      this.#rest = '';
      throw answerTooLarge(`an event line over ${SSE_LINE_LIMIT} characters`);
    }
    this.#rest = rest;
  }

  #line(line: string, onText: (text: string) => void): void {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (data === '' || data === '[DONE]') return;
    let chunk: ChunkJson;
    try {
      chunk = JSON.parse(data) as ChunkJson;
    } catch {
      return; // not an event the bridge writes; nothing in it to translate
    }
    const choice = chunk.choices?.[0];
    const content = choice?.delta?.content;
    if (typeof content === 'string' && content !== '') onText(content);
    if (typeof choice?.finish_reason === 'string') this.finishReason = choice.finish_reason;
  }
}

export type ChatAnswer = { text: string; finishReason: string | null };

/** The text and finish reason of a non-stream chat completion body. */
export function chatAnswerOf(body: string): ChatAnswer {
  let answer: CompletionJson;
  try {
    answer = JSON.parse(body) as CompletionJson;
  } catch {
    throw new RelayError('upstream_error', 'the bridge answered with invalid JSON');
  }
  const choice = answer.choices?.[0];
  const content = choice?.message?.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    throw new RelayError('upstream_error', 'the bridge answered without text content');
  }
  const finish = choice?.finish_reason;
  return { text: content ?? '', finishReason: typeof finish === 'string' ? finish : null };
}

/**
 * One consumer request being metered: counts the answer's text on the way through (as the
 * Exchange's ResponseTap, streamed or not) and works out its usage once, at the end. With
 * `stream_options.include_usage` it also writes OpenAI's usage chunk (`choices: []`, `usage`)
 * just before the bridge's closing `data: [DONE]`: the bridge's bytes are passed on untouched,
 * only the tail that could be the start of `data: [DONE]\n\n` is held back until the next
 * payload (or the end) shows what it is — at most 14 bytes, no copy.
 */
import type { ServerResponse } from 'node:http';
import { writeBodyChunk } from '../http/body-chunk.js';
import type { ResponseTap } from '../proxy/exchange.js';
import { NO_USAGE, type RequestUsage } from '../proxy/observer.js';
import { ContentCounter } from './content-counter.js';
import { estimateTokens, promptChars } from './estimate.js';

const DONE = Buffer.from('data: [DONE]\n\n');

export type MeteredRequestInit = {
  requestId: string;
  model: string;
  /** The chat request body (its message texts give the prompt estimate). */
  body: unknown;
  includeUsage: boolean;
};

/** Length of the longest tail of (DONE[0, held) + payload) that is a prefix of DONE. */
function doneTail(payload: Buffer, held: number): number {
  const total = held + payload.length;
  const at = (j: number) => (j < held ? DONE[j]! : payload[j - held]!);
  for (let k = Math.min(DONE.length, total); k > 0; k--) {
    let match = true;
    for (let j = 0; j < k; j++) {
      if (at(total - k + j) !== DONE[j]) {
        match = false;
        break;
      }
    }
    if (match) return k;
  }
  return 0;
}

export class MeteredRequest implements ResponseTap {
  private counter = new ContentCounter();
  /** Bytes of DONE held back (only with include_usage). */
  private held = 0;
  private chunkId: string | undefined;
  private computed: RequestUsage | undefined;

  constructor(readonly init: MeteredRequestInit) {}

  /** The prompt's token estimate (known before the answer: front-ends announce it up front). */
  promptTokens(): number {
    return estimateTokens(promptChars(this.init.body));
  }

  /** Counts `payload` without writing it (for a tap that rewrites the answer). */
  observe(payload: Buffer): void {
    this.counter.scan(payload);
  }

  /** A failed attempt's bytes never reached the consumer: they count for nothing. */
  restart(): void {
    this.counter = new ContentCounter();
  }

  write(res: ServerResponse, payload: Buffer): boolean {
    this.counter.scan(payload);
    if (!this.init.includeUsage) return writeBodyChunk(res, payload);
    if (this.chunkId === undefined) this.chunkId = chunkIdOf(payload) ?? `chatcmpl-${this.init.requestId}`;
    const keep = doneTail(payload, this.held);
    const out = this.held + payload.length - keep;
    const fromHeld = Math.min(this.held, out);
    let writable = true;
    if (fromHeld > 0) writable = writeBodyChunk(res, DONE.subarray(0, fromHeld));
    if (out > fromHeld) writable = writeBodyChunk(res, payload.subarray(0, out - fromHeld));
    this.held = keep;
    return writable;
  }

  /** The agent's `usage` is not used: see `usage()`. */
  end(res: ServerResponse): undefined {
    if (this.held === 0) return;
    if (this.held === DONE.length) res.write(this.usageEvent(this.usage(true)));
    res.write(DONE.subarray(0, this.held));
    this.held = 0;
  }

  /**
   * The request's usage, worked out once, from what the relay itself saw: the request's text and
   * the answer's bytes as relayed. An agent runs on someone else's machine, so the usage it
   * claims in `end` is never believed (it would feed reports, prices and token budgets).
   * Nothing counts for a request that got no answer (`answered` false).
   */
  usage(answered: boolean): RequestUsage {
    if (this.computed) return this.computed;
    if (!answered) {
      this.computed = NO_USAGE;
      return this.computed;
    }
    const promptTokens = this.promptTokens();
    const completionTokens = estimateTokens(this.counter.chars);
    this.computed = {
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      estimated: true,
    };
    return this.computed;
  }

  private usageEvent(usage: RequestUsage): string {
    const chunk = {
      id: this.chunkId,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: this.init.model,
      choices: [],
      usage: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.totalTokens,
      },
    };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}

/** The `id` of the first event, so the usage chunk carries the stream's id as OpenAI's does. */
function chunkIdOf(payload: Buffer): string | undefined {
  const head = payload.toString('latin1', 0, Math.min(payload.length, 160));
  return /"id":\s*"(chatcmpl-[\w-]{1,100})"/.exec(head)?.[1];
}

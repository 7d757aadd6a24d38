/**
 * How a bridge's 2xx body that is not an event stream reaches the sink: JSON is held and judged
 * whole before `head` (up to a cap), anything else flows at once.
 */
import { Pump } from './body-pumps.js';
import type { UpstreamFailure } from './classify.js';
import type { Dialect } from './dialects/index.js';
import { judgeBody } from './first-event.js';
import type { StreamSink } from './forward.js';

/** Largest non-streamed body judged before `head`; beyond it the bytes flow unjudged. */
const BODY_CHECK_LIMIT = 1024 * 1024;

/**
 * Any other 2xx body (the bridge's non-stream JSON). JSON is held and judged whole (an error body,
 * an empty message) before `head`, up to BODY_CHECK_LIMIT; other bodies go out at once. Its
 * `usage` is not read: the relay meters what it relays and trusts no agent's count.
 */
export class PlainPump extends Pump {
  readonly #status: number;
  readonly #headers: Record<string, string>;
  readonly #dialect: Dialect;
  /** Body bytes held until judged; undefined once `head` went out. */
  #held: Buffer[] | undefined;
  #size = 0;

  constructor(
    sink: StreamSink,
    stop: (failure: UpstreamFailure) => void,
    status: number,
    type: string,
    dialect: Dialect,
  ) {
    super(sink, stop);
    this.#status = status;
    this.#headers = type ? { 'content-type': type } : {};
    this.#dialect = dialect;
    if (/\bjson\b/i.test(type)) this.#held = [];
    else sink.head(status, this.#headers);
  }

  onChunk(chunk: Buffer): boolean {
    if (this.#held === undefined) return this.sink.write(chunk);
    this.#held.push(chunk);
    this.#size += chunk.length;
    if (this.#size < BODY_CHECK_LIMIT) return true;
    return this.#release();
  }

  onEnd(): void {
    if (this.#held !== undefined) {
      const failure = judgeBody(Buffer.concat(this.#held).toString('utf8'), this.#dialect);
      if (failure) return this.stop(failure);
      this.#release();
    }
    this.sink.end();
  }

  #release(): boolean {
    const held = this.#held!;
    this.#held = undefined;
    this.sink.head(this.#status, this.#headers);
    return held.length === 0 ? true : this.sink.write(held.length === 1 ? held[0]! : Buffer.concat(held));
  }
}

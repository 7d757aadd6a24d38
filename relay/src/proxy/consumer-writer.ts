/**
 * The consumer's side of an Exchange: writes the agent's head, payloads and end (or a failure)
 * to the ServerResponse, through the request's tap when it has one, each payload as one
 * pre-framed body chunk (its bytes copied once, never turned into a string or re-parsed); corks
 * the frames of one turn into one write; hands credit back to the agent as bytes leave; times
 * the first byte. Knows nothing of attempts: the Exchange points it at each new stream (`attach`).
 */
import type { ServerResponse } from 'node:http';
import { tickCorker } from '@arena-relay/shared';
import { RelayError } from '../errors/relay-error.js';
import { writeBodyChunk } from '../http/body-chunk.js';
import { sendError } from '../http/error-reply.js';
import type { PinOutcome } from '../routing/sticky.js';
import { type CreditSink, CreditWindow } from '../tunnel/credit-window.js';
import { KeepAlive } from './keep-alive.js';
import type { RequestOutcome } from './outcome.js';
import { consumerHeaders } from './response-headers.js';
import type { ResponseTap } from './response-tap.js';

export type ConsumerWriterOptions = {
  requestId: string;
  stream: boolean;
  /** The agent's flow-control window, in bytes. */
  streamWindow: number;
  tap?: ResponseTap | undefined;
  /** Called once, with `performance.now()`, when the first payload byte arrives. */
  onFirstByte?: (at: number) => void;
  /** A streamed answer's 200 may go out early with `: keep-alive` comments after this long (ms; 0: never). */
  keepAliveMs?: number;
};

export class ConsumerWriter {
  /** Payload bytes relayed to the consumer (of the attempt that is being served). */
  bytes = 0;
  /** The HTTP status the consumer got (0 while none). */
  status = 0;
  /** `performance.now()` of the first payload byte; 0 before it. */
  firstByteAt = 0;
  private readonly credit: CreditWindow;
  /** Frames that arrive in one socket read reach the consumer in one write. */
  private readonly cork: () => void;
  private readonly tap: ResponseTap | undefined;
  private readonly keepAlive: KeepAlive | undefined;
  /** The 200 went out before any agent answered (keep-alives): only content commits now. */
  openedEarly = false;
  private contentSent = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ConsumerWriterOptions,
  ) {
    this.tap = options.tap;
    this.credit = new CreditWindow(options.streamWindow, res);
    this.cork = tickCorker(res);
    if (options.stream && options.keepAliveMs) {
      this.keepAlive = new KeepAlive(res, options.keepAliveMs, () => this.openEarly());
      this.keepAlive.start();
    }
  }

  /** True once something of the answer reached the consumer: from then on nothing is retried. */
  get committed(): boolean {
    return this.openedEarly ? this.contentSent : this.res.headersSent;
  }

  /** Stops the keep-alives (the answer ended, failed, or the consumer left). */
  close(): void {
    this.keepAlive?.stop();
  }

  /** The early 200 of a waiting stream, in the API's own opening (the tap's) or as plain SSE. */
  private openEarly(): boolean {
    if (this.res.headersSent) return false;
    const out = consumerHeaders(
      { 'content-type': 'text/event-stream' },
      {
        stream: true,
        requestId: this.options.requestId,
      },
    );
    if (this.tap?.openEarly) {
      // Called from a timer, outside the Exchange's guard: a throw here ends this response (the
      // Exchange sees the consumer go), never the process.
      try {
        this.tap.openEarly(this.res, out);
      } catch {
        this.res.destroy();
        return false;
      }
    } else this.res.writeHead(200, out);
    this.openedEarly = true;
    this.status = 200;
    return true;
  }

  /** The stream whose bytes come next; credit goes back to it. */
  attach(stream: CreditSink): void {
    this.credit.attach(stream);
  }

  /**
   * The agent's head. A tap may hold it back (it answers once the whole answer is in): until
   * something reaches the consumer (`committed`), a failure is still retried on another agent.
   */
  head(status: number, headers: Record<string, string>, pin: PinOutcome | undefined): RelayError | undefined {
    if (this.openedEarly) {
      // The 200 is out: a refusal can only be told as an error event (see `fail`).
      if (status < 200 || status >= 300) {
        return new RelayError('upstream_error', `the bridge answered ${status}`, { status });
      }
      this.tap?.head?.(this.res, status, headers);
      return undefined;
    }
    this.keepAlive?.stop();
    this.status = status;
    const out = consumerHeaders(headers, {
      stream: this.options.stream,
      requestId: this.options.requestId,
      extra: pin ? { 'x-session-pin': pin } : undefined,
    });
    if (this.tap?.head) this.tap.head(this.res, status, out);
    else this.res.writeHead(status, out);
    return undefined;
  }

  /** Hot path: one payload of the answer. */
  data(payload: Buffer): void {
    if (this.firstByteAt === 0) {
      this.firstByteAt = performance.now();
      this.options.onFirstByte?.(this.firstByteAt);
    }
    this.bytes += payload.byteLength;
    if (!this.contentSent) {
      this.contentSent = true;
      this.keepAlive?.stop();
    }
    this.cork();
    const tap = this.tap;
    this.credit.sent(
      payload.byteLength,
      tap ? tap.write(this.res, payload) : writeBodyChunk(this.res, payload),
    );
  }

  /** The agent ended the stream: ends the response; the outcome is `ok` or the tap's error code. */
  end(): RequestOutcome {
    this.close();
    this.contentSent = true;
    const failed = this.tap?.end(this.res);
    this.res.end();
    if (failed) this.status = this.res.statusCode;
    return failed ?? 'ok';
  }

  /** The attempt failed before anything reached the consumer: forget it, another is tried. */
  restart(): void {
    this.tap?.restart?.();
    this.bytes = 0;
    this.credit.attach(undefined);
  }

  /** After the first byte nothing is retried: an SSE error event (or a cut JSON body), then the end. */
  fail(error: RelayError): void {
    this.close();
    const { res, tap } = this;
    const sent = res.headersSent;
    if (tap?.fail) {
      // The last word of a failed request: a tap that throws here too only loses the shape.
      try {
        if (!res.writableEnded) tap.fail(res, error);
      } catch {
        res.destroy();
      }
      if (!sent && res.headersSent) this.status = res.statusCode;
    } else if (!sent && !res.writableEnded) {
      // Nothing went out yet (a tap threw on the head): a plain error answer, not an event.
      sendError(res, error);
      this.status = res.statusCode;
    } else if (this.options.stream && !res.writableEnded) {
      res.end(`data: ${JSON.stringify(error.body())}\n\n`);
    } else {
      res.destroy();
    }
  }
}

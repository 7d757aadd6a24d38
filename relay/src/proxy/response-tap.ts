/** A hook on one request's byte path (usage metering, `include_usage`, answer rewrites). */
import type { ServerResponse } from 'node:http';
import type { RelayError, RelayErrorCode } from '../errors/relay-error.js';

/** Called synchronously, once per payload: keep it cheap. */
export interface ResponseTap {
  /**
   * When present, writes the response head instead of the Exchange (which otherwise writes it as
   * soon as the agent's `head` arrives): lets a tap that rewrites the answer choose its status.
   */
  head?(res: ServerResponse, status: number, headers: Record<string, string>): void;
  /** Writes `payload` (or what stands for it) to `res`; returns what `res.write` returned. */
  write(res: ServerResponse, payload: Buffer): boolean;
  /**
   * The agent ended the stream: write what must come before the response ends. A tap that turned
   * the answer into an error (having written that error's head) returns its code.
   */
  end(res: ServerResponse): RelayErrorCode | undefined;
  /**
   * The answer failed after the head went out: write the failure in the tap's own API shape and
   * end `res`. Without it the Exchange writes an OpenAI SSE error event (or cuts a JSON body).
   */
  fail?(res: ServerResponse, error: RelayError): void;
  /**
   * The attempt failed while nothing had reached the consumer (a tap whose `head` defers the
   * response, such as a whole-answer rewrite): forget what it saw, another agent is tried.
   */
  restart?(): void;
  /**
   * A waiting stream's 200 goes out before any agent answered (keep-alives): write the head and the
   * API's opening events. The agent's `head` may still come (with `res.headersSent`), or a failure.
   */
  openEarly?(res: ServerResponse, headers: Record<string, string>): void;
}

/**
 * The relay's half of a stream's flow control: bytes the agent sent count against its window
 * until they have left the relay, then go back as credit (`StreamHandle.grant`). Credit is handed
 * back in quarters of the window, never while the consumer's socket is full (it goes back on
 * 'drain'), so a slow consumer holds the agent at one window of bytes. The agent's half is
 * bridge-agent/src/tunnel/relay-stream.ts.
 */

/** Where credit goes: the stream the bytes came from. */
export interface CreditSink {
  grant(bytes: number): void;
}

/** The consumer side, as far as credit cares: it says when a full socket has drained. */
export interface Drainable {
  once(event: 'drain', listener: () => void): unknown;
}

export class CreditWindow {
  private unacked = 0;
  private waitingDrain = false;
  private sink: CreditSink | undefined;
  /** Bytes written before credit goes back: a quarter of the window (at least 1). */
  readonly threshold: number;

  constructor(
    window: number,
    private readonly output: Drainable,
  ) {
    this.threshold = Math.max(1, window >> 2);
  }

  /**
   * The stream whose bytes are counted from now on (a new attempt): what the last one sent is
   * forgotten, it will send nothing more.
   */
  attach(sink: CreditSink | undefined): void {
    this.sink = sink;
    this.unacked = 0;
  }

  /** Hot path: `bytes` were handed to the consumer's socket; `accepted` is what `write` returned. */
  sent(bytes: number, accepted: boolean): void {
    this.unacked += bytes;
    if (!accepted) {
      if (!this.waitingDrain) {
        this.waitingDrain = true;
        this.output.once('drain', this.onDrain);
      }
    } else if (!this.waitingDrain && this.unacked >= this.threshold) {
      this.flush();
    }
  }

  private flush(): void {
    const bytes = this.unacked;
    this.unacked = 0;
    this.sink?.grant(bytes);
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (this.unacked > 0) this.flush();
  };
}

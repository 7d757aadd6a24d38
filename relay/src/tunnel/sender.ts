/**
 * Writes to one agent socket. The first write of an event-loop turn corks the TCP socket the
 * upgrade handed over and the turn's end uncorks it, so a turn's opens, bodies and credits leave
 * in one writev.
 */
import { type Corkable, type RelayFrame, tickCorker } from '@arena-relay/shared';

/** The part of a WebSocket the sender writes to. */
export type Sendable = {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string | Buffer, options: { binary: boolean }): void;
};

export class Sender {
  private readonly cork: () => void;
  private stopped = false;

  /** `socket`: the net.Socket under `ws` (absent in unit tests: writes are then not corked). */
  constructor(
    private readonly ws: Sendable,
    socket: Corkable | undefined,
  ) {
    this.cork = socket ? tickCorker(socket) : () => {};
  }

  /** Nothing more is sent (the session is closing or closed). */
  stop(): void {
    this.stopped = true;
  }

  frame(frame: RelayFrame): void {
    this.text(JSON.stringify(frame));
  }

  /** A control frame's JSON (a Buffer holds its UTF-8 bytes: still a text message). */
  text(text: string | Buffer): void {
    if (!this.writable()) return;
    this.cork();
    this.ws.send(text, { binary: false });
  }

  binary(frame: Buffer): void {
    if (!this.writable()) return;
    this.cork();
    this.ws.send(frame, { binary: true });
  }

  private writable(): boolean {
    return !this.stopped && this.ws.readyState === this.ws.OPEN;
  }
}

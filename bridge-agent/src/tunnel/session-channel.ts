/**
 * How the agent writes to one relay socket: one flush per turn. Control frames go into the
 * socket's TurnWriter at once; streams with payload waiting are noted, and at the turn's end each
 * one's batch is framed after them and the writer sends everything in one socket write. The
 * socket is taken from the upgrade answer (ws has it by then); a close the agent sends flushes
 * first, so an `end` queued just before never comes after the close frame.
 */
import type { BreachCode } from '@arena-relay/shared';
import WebSocket from 'ws';
import { RelayWebSocket } from './relay-socket.js';
import type { SessionChannel } from './relay-stream.js';
import { type RawSocket, TurnWriter } from './turn-writer.js';

/** What the channel asks of a stream with payload batched for the turn's end. */
export type Batched = { flush(): void };

/** A channel over `writer`; `isOpen`: whether the WebSocket may still send. */
export function turnChannel(
  writer: TurnWriter,
  isOpen: () => boolean,
  protocolError: (code: BreachCode, reason: string) => void,
): SessionChannel & { flush(): void } {
  /**
   * Streams with a batch this turn, the first `count` entries: the array is kept between turns
   * (emptying it by `length = 0` would give its storage back, and the next turn reallocate it).
   */
  const batched: (Batched | undefined)[] = [];
  let count = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    for (let i = 0; i < count; i++) {
      const stream = batched[i]!;
      batched[i] = undefined;
      stream.flush();
    }
    count = 0;
    writer.flush();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  return {
    sendControl: (frame) => {
      if (!isOpen()) return;
      writer.text(JSON.stringify(frame));
      schedule();
    },
    later: (stream) => {
      batched[count++] = stream;
      schedule();
    },
    sendData: (stream, payload, start, end, maxPayload) => {
      if (isOpen()) writer.data(stream, payload, start, end, maxPayload);
    },
    protocolError,
    flush,
  };
}

export function channelFor(
  ws: WebSocket,
  protocolError: (code: BreachCode, reason: string) => void,
): SessionChannel {
  const writer = new TurnWriter(() => ws.readyState === WebSocket.OPEN);
  ws.once('upgrade', (response) => {
    const socket: RawSocket | null = response.socket;
    if (socket) writer.attach(socket);
  });
  const channel = turnChannel(writer, () => ws.readyState === WebSocket.OPEN, protocolError);
  if (ws instanceof RelayWebSocket) ws.beforeClose = channel.flush;
  return channel;
}

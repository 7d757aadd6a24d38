/**
 * How the agent writes to one socket. The first write of an event-loop turn corks the TCP socket
 * (taken from the upgrade answer, once ws has it) and the turn's end uncorks it, so a burst of
 * frames leaves in one writev.
 */
import { type BreachCode, type Corkable, tickCorker } from '@arena-relay/shared';
import WebSocket from 'ws';
import type { SessionChannel } from './relay-stream.js';

export function channelFor(
  ws: WebSocket,
  protocolError: (code: BreachCode, reason: string) => void,
): SessionChannel {
  let cork: () => void = () => {};
  ws.once('upgrade', (response) => {
    const socket: Corkable | null = response.socket;
    if (socket) cork = tickCorker(socket);
  });
  return {
    sendControl: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      ws.send(JSON.stringify(frame));
    },
    sendData: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      ws.send(frame);
    },
    protocolError,
  };
}

/**
 * How the agent's WebSocket to a relay is built, in one function: every option of the dial
 * (the client token, the trusted CAs, the largest frame the relay may send) is set here and
 * nowhere else, so a new one (a proxy) has one place to go.
 */

import type { Agent } from 'node:http';
import { MAX_OPEN_FRAME_BYTES, SUBPROTOCOL } from '@arena-relay/shared';
import WebSocket from 'ws';

export type RelaySocketOptions = {
  token: string;
  /** From RelayTrust: the system's roots plus a private CA, or undefined (Node's defaults). */
  ca: string[] | undefined;
  /** The upgrade must be answered within this, in ms. */
  handshakeTimeoutMs: number;
  /** Dials through this (an HTTP CONNECT or SOCKS proxy: relay-proxy.ts); absent, directly. */
  agent?: Agent | undefined;
};

/**
 * The agent's WebSocket: `close` first runs `beforeClose` (the session's writer sends what it
 * queued this turn), so the close frame comes after every frame queued before it — ws's own
 * close (answering the relay's) included.
 */
export class RelayWebSocket extends WebSocket {
  beforeClose: (() => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    this.beforeClose?.();
    super.close(code, data);
  }
}

/** Dials `url` (ws:// or wss://) with the agent's subprotocol; listeners are the caller's. */
export function openRelaySocket(url: string, options: RelaySocketOptions): RelayWebSocket {
  return new RelayWebSocket(url, SUBPROTOCOL, {
    headers: { authorization: `Bearer ${options.token}` },
    ...(options.ca && { ca: options.ca }),
    ...(options.agent && { agent: options.agent }),
    perMessageDeflate: false,
    // The relay sends only control frames, and an `open` holds a whole request body.
    maxPayload: MAX_OPEN_FRAME_BYTES,
    handshakeTimeout: options.handshakeTimeoutMs,
    // An all-zero mask lets ws send data frames without copying them to mask (turn-writer.ts
    // frames the agent's messages the same way). Masking only protects browsers' proxies from
    // scripted payloads; this client runs no foreign script.
    generateMask: () => {},
  });
}

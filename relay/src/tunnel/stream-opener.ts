/**
 * Opening a stream on an agent socket: the id, the `open` (and the body after it, v2), and the
 * handle through which the relay cancels the stream or returns its credit.
 */
import { type HelloFrame, MAX_OPEN_FRAME_BYTES, type RelayFrame } from '@arena-relay/shared';
import type { OpenRequest } from '../routing/routable-agent.js';
import { encodeOpen, tooLargeForAgent } from './open-encoder.js';
import type { Sender } from './sender.js';
import type { StreamHandle, StreamHandlers } from './stream.js';
import type { StreamTable } from './stream-table.js';

export type OpenTarget = {
  readonly streams: StreamTable;
  readonly sender: Sender;
  /** The protocol revision of the socket. */
  readonly protocol: number;
  /** The agent's hello: how it reads an `open` (its headers, a rerouted model). */
  readonly hello: HelloFrame | undefined;
  /** A stream ended here (or never started): capacity may have freed up. */
  onStreamEnded(): void;
};

/** Opens a stream; its handlers fire synchronously from socket events. */
export function openStream(target: OpenTarget, request: OpenRequest, handlers: StreamHandlers): StreamHandle {
  const { streams, sender } = target;
  const id = streams.allocate();
  const encoded = encodeOpen(id, request, target.protocol, target.hello);
  // The agent would close its whole socket on a larger request; the body limit keeps requests
  // below this, so only a body that grew in re-encoding could get here.
  if (tooLargeForAgent(encoded)) {
    queueMicrotask(() => {
      handlers.onFailure({
        code: 'upstream_rejected',
        status: 413,
        message: `the request is larger than an agent accepts (${MAX_OPEN_FRAME_BYTES} bytes)`,
      });
      target.onStreamEnded();
    });
    return { id, cancel: () => undefined, grant: () => undefined };
  }
  streams.add(id, handlers);
  sender.text(encoded.control);
  for (const frame of encoded.body) sender.binary(frame);
  const send = (frame: RelayFrame) => sender.frame(frame);
  return {
    id,
    cancel: (reason) => {
      if (!streams.delete(id)) return;
      send({ type: 'cancel', stream: id, reason });
      target.onStreamEnded();
    },
    grant: (bytes) => {
      if (streams.grant(id, bytes)) send({ type: 'credit', stream: id, bytes });
    },
  };
}

/**
 * The `open` frame and the request body that goes with it. Protocol v1: the body inside the
 * `open` text frame, its JSON bytes spliced in as the consumer sent them. Protocol v2: the `open`
 * names the body's length and the routed model, and the body follows as BODY data frames, bytes
 * untouched. A routed model other than the body names is written into the body by the agent when
 * its hello said `routedModel` (the `open` says `rerouted`), else here, encoded once. The
 * relay's validator has parsed the body already; nothing here parses it again.
 */
import { isUtf8 } from 'node:buffer';
import {
  BODY_FRAME_BYTES,
  DataKind,
  encodeDataFrame,
  type HelloFrame,
  MAX_OPEN_FRAME_BYTES,
  PROTOCOL_V2,
  truncateChars,
} from '@arena-relay/shared';
import type { OpenRequest } from '../routing/routable-agent.js';

export type EncodedOpen = {
  /** The `open` text frame: a string, or its UTF-8 bytes when body bytes are spliced in (v1). */
  control: string | Buffer;
  /** BODY data frames that follow the `open` (v2). */
  body: Buffer[];
  /** Bytes an agent must take for this request (checked against MAX_OPEN_FRAME_BYTES). */
  size: number;
};

/** What the agent's hello said of how it reads an `open`; absent fields: an older agent's ways. */
export type OpenPeer = Pick<HelloFrame, 'openHeaders' | 'routedModel'>;

/**
 * The request body as JSON bytes, valid UTF-8: the consumer's own bytes when they are (a text
 * frame must be UTF-8, and so must the bridge's JSON), else the parsed value encoded once.
 * `writesModel`: the agent writes a rerouted model into the consumer's bytes itself.
 */
export function requestBytes(request: OpenRequest, writesModel = false): Buffer | undefined {
  const { bodyJson, body } = request;
  // The one place the relay re-encodes a consumer's body for another model: the agent cannot
  // write it in (an older agent, protocol 1, another relay), or the relay encodes `body` anyway.
  if (request.rerouted && body !== undefined && (!writesModel || bodyJson === undefined)) {
    return Buffer.from(JSON.stringify({ ...(body as object), model: request.model }));
  }
  if (bodyJson !== undefined) {
    if (isUtf8(bodyJson)) return bodyJson;
    // The relay parsed these bytes as UTF-8 (bad sequences became U+FFFD): send what it read.
    return body === undefined ? Buffer.from(bodyJson.toString('utf8')) : Buffer.from(JSON.stringify(body));
  }
  return body === undefined ? undefined : Buffer.from(JSON.stringify(body));
}

/** The model routed for the request, for the agent's logs (bounded as the `open` schema wants). */
export function requestModel(request: OpenRequest): string | undefined {
  return request.model === undefined ? undefined : truncateChars(request.model, 256);
}

const CLOSE_BRACE = Buffer.from('}');

/**
 * Encodes the `open` of `stream` for an agent speaking `protocol`, as its hello (`peer`) asked:
 * no `open.headers` when it said `openHeaders: false`; the consumer's bytes and `rerouted` for a
 * routed model when it said `routedModel: true` (protocol 2 only: v1 has no `open.model`).
 */
export function encodeOpen(
  stream: number,
  request: OpenRequest,
  protocol: number,
  peer: OpenPeer = {},
): EncodedOpen {
  const head = {
    type: 'open',
    stream,
    method: request.method,
    path: request.path,
    ...(peer.openHeaders !== false && { headers: request.headers }),
  };
  const writesModel = peer.routedModel === true && protocol >= PROTOCOL_V2;
  const bytes = requestBytes(request, writesModel);
  if (protocol >= PROTOCOL_V2) {
    const model = requestModel(request);
    const rerouted = writesModel && request.rerouted && request.bodyJson !== undefined && model !== undefined;
    const control = JSON.stringify({
      ...head,
      ...(bytes && { bodyBytes: bytes.byteLength }),
      ...(model !== undefined && { model }),
      ...(rerouted && { rerouted: true }),
    });
    const size = bytes?.byteLength ?? 0;
    // Frames of a body the agent would refuse are not worth building.
    return { control, body: bytes && size <= MAX_OPEN_FRAME_BYTES ? bodyFrames(stream, bytes) : [], size };
  }
  if (!bytes) return { control: JSON.stringify(head), body: [], size: 0 };
  const start = Buffer.from(`${JSON.stringify(head).slice(0, -1)},"body":`);
  const control = Buffer.concat([start, bytes, CLOSE_BRACE]);
  return { control, body: [], size: control.byteLength };
}

/** Cuts `bytes` into BODY frames of at most BODY_FRAME_BYTES of payload: one copy, into the frames. */
export function bodyFrames(stream: number, bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += BODY_FRAME_BYTES) {
    const end = Math.min(bytes.byteLength, offset + BODY_FRAME_BYTES);
    frames.push(encodeDataFrame(DataKind.BODY, stream, bytes.subarray(offset, end)));
  }
  return frames;
}

/** True when an agent would refuse the request (its socket closes on a larger message). */
export function tooLargeForAgent(open: EncodedOpen): boolean {
  return open.size > MAX_OPEN_FRAME_BYTES;
}

/**
 * Binary data frames: `[u8 kind][u32 stream id, big-endian][payload]`. The payload is bytes
 * exactly as one end wrote them; decoding hands back a view, never a copy.
 */

/**
 * Frame kinds. DATA: agent → relay, the bridge's answer. BODY (protocol v2): relay → agent, the
 * consumer's request body, after the `open` that announced its length. Each side refuses the
 * kind that does not travel its way.
 */
export const DataKind = { DATA: 1, BODY: 2 } as const;
export type DataKind = (typeof DataKind)[keyof typeof DataKind];

/** Bytes before the payload. */
export const DATA_HEADER_BYTES = 5;

/** Encodes one data frame: one allocation of header + payload, one copy of the payload. */
export function encodeDataFrame(kind: DataKind, stream: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(DATA_HEADER_BYTES + payload.byteLength);
  frame[0] = kind;
  frame.writeUInt32BE(stream, 1);
  frame.set(payload, DATA_HEADER_BYTES);
  return frame;
}

/**
 * Encodes one data frame from several payload pieces (`total` = their summed length): the
 * pieces are copied once, straight into the frame.
 */
export function encodeDataFrameParts(
  kind: DataKind,
  stream: number,
  parts: readonly Uint8Array[],
  total: number,
): Buffer {
  const frame = Buffer.allocUnsafe(DATA_HEADER_BYTES + total);
  frame[0] = kind;
  frame.writeUInt32BE(stream, 1);
  let offset = DATA_HEADER_BYTES;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

export type DecodedDataFrame = { kind: number; stream: number; payload: Buffer };

/**
 * The kind of a well-formed data frame, 0 when it is too short, its kind unknown or its stream 0:
 * the hot path's check, with nothing allocated (then `dataFrameStream`, and the payload is
 * `frame.subarray(DATA_HEADER_BYTES)`).
 */
export function dataFrameKind(frame: Buffer): number {
  if (frame.byteLength < DATA_HEADER_BYTES) return 0;
  const kind = frame[0]!;
  if (kind !== DataKind.DATA && kind !== DataKind.BODY) return 0;
  return frame.readUInt32BE(1) === 0 ? 0 : kind;
}

/** The stream id of a frame `dataFrameKind` found well-formed. */
export const dataFrameStream = (frame: Buffer): number => frame.readUInt32BE(1);

/**
 * Decodes a data frame. Returns undefined when it is too short or its kind is unknown; the
 * payload is a view into `frame`.
 */
export function decodeDataFrame(frame: Buffer): DecodedDataFrame | undefined {
  const kind = dataFrameKind(frame);
  if (kind === 0) return undefined;
  return { kind, stream: dataFrameStream(frame), payload: frame.subarray(DATA_HEADER_BYTES) };
}

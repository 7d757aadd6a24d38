/**
 * Reads the WebSocket frames the agent's TurnWriter wrote (client frames: masked, all-zero key),
 * for tests: each socket write is split into its messages, text as parsed JSON and data frames
 * decoded.
 */
import { type AgentFrame, decodeDataFrame } from '@arena-relay/shared';

export type WrittenFrame = { text: AgentFrame } | { stream: number; payload: Buffer };

/** The messages of one write, in order; throws on anything ws would not send. */
export function framesOf(write: Buffer): WrittenFrame[] {
  const frames: WrittenFrame[] = [];
  let at = 0;
  while (at < write.length) {
    const opcode = write[at]! & 0x0f;
    if ((write[at]! & 0xf0) !== 0x80) throw new Error('not a final, unextended frame');
    if ((write[at + 1]! & 0x80) === 0) throw new Error('an unmasked client frame');
    let length = write[at + 1]! & 0x7f;
    at += 2;
    if (length === 126) {
      length = write.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = write.readUInt32BE(at + 4);
      at += 8;
    }
    if (write.readUInt32BE(at) !== 0) throw new Error('a masking key that is not zero');
    at += 4;
    const payload = write.subarray(at, at + length);
    at += length;
    if (opcode === 1) frames.push({ text: JSON.parse(payload.toString('utf8')) as AgentFrame });
    else {
      const data = decodeDataFrame(payload);
      if (!data) throw new Error('a malformed data frame');
      frames.push({ stream: data.stream, payload: Buffer.from(data.payload) });
    }
  }
  return frames;
}

/** A socket that keeps a copy of every write. */
export function recordingSocket(): {
  writes: Buffer[];
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
} {
  const writes: Buffer[] = [];
  return {
    writes,
    write: (chunk) => writes.push(Buffer.from(chunk)) > 0,
    cork: () => undefined,
    uncork: () => undefined,
  };
}

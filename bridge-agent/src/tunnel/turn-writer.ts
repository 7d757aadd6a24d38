/**
 * The agent's writes to one relay socket: every frame sent within an event-loop turn (control
 * frames of any stream, data of every stream) is framed straight into one buffer, and `flush`
 * (at the turn's end: session-channel.ts) writes it to the socket in one `write`: one syscall,
 * one write request and no per-frame buffer, array or options object (ws's Sender allocates a
 * header and a list per message; profiles of the slow-stream bench put a third of the agent's
 * heap bytes there).
 *
 * Frames are WebSocket messages exactly as ws would send them (FIN, one frame per message, the
 * masking key all zero as relay-socket.ts has ws use), so the relay reads them as before. Data
 * arriving for the stream whose data frame is last in the buffer grows that frame (up to the
 * frame limit): a turn's chunks of one stream leave as one data frame, as before.
 *
 * Bytes are appended to a slab and never overwritten, so a write still in flight keeps its bytes;
 * a full slab is left to the writes holding it and a new one taken.
 */
import { DATA_HEADER_BYTES, DataKind } from '@arena-relay/shared';

/** The socket under the WebSocket (taken from the upgrade answer). */
export type RawSocket = { write(chunk: Buffer): boolean; cork(): void; uncork(): void };

/** Bytes of one slab (off the V8 heap, one per socket; a frame larger than this gets its own). */
const SLAB_BYTES = 64 * 1024;
/** WebSocket opcodes. */
const TEXT = 0x1;
const BINARY = 0x2;
const FIN = 0x80;
const MASKED = 0x80;

/** Bytes of a client frame's header for a payload of `length` (length field and 4-byte mask key). */
function headerBytes(length: number): number {
  return length <= 125 ? 6 : length <= 0xffff ? 8 : 14;
}

export class TurnWriter {
  #socket: RawSocket | undefined;
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  /** The slab's bytes before `#start` are written; `[#start, #used)` wait for the turn's end. */
  #start = 0;
  #used = 0;
  /** Waiting bytes of earlier slabs (filled within this turn), written first. */
  #earlier: Buffer[] = [];
  /** The last frame in the slab, when it is a data frame still waiting: it may grow. */
  #tailStream = 0;
  #tailAt = 0;
  #tailPayload = 0;
  /** Socket writes made (for tests and the bench). */
  writes = 0;

  /** `isOpen`: whether the WebSocket may still send; bytes are dropped once it may not. */
  constructor(private readonly isOpen: () => boolean) {}

  /** The socket under the WebSocket, once upgraded. */
  attach(socket: RawSocket): void {
    this.#socket = socket;
  }

  /** Queues a text message. */
  text(text: string): void {
    const length = Buffer.byteLength(text);
    const at = this.#frame(TEXT, length);
    this.#slab.write(text, at, length, 'utf8');
    this.#tailStream = 0;
  }

  /**
   * Queues `payload[start, end)` as data of `stream`, in data frames of at most `maxPayload`
   * payload bytes; the bytes are copied now, so the caller may reuse its buffer at once.
   */
  data(stream: number, payload: Uint8Array, start: number, end: number, maxPayload: number): void {
    let from = start;
    while (from < end) {
      if (
        this.#tailStream === stream &&
        this.#tailPayload < maxPayload &&
        this.#grow(end - from, maxPayload)
      ) {
        const take = Math.min(end - from, maxPayload - this.#tailPayload);
        copyInto(this.#slab, this.#used, payload, from, from + take);
        this.#used += take;
        this.#tailPayload += take;
        from += take;
        continue;
      }
      const take = Math.min(end - from, maxPayload);
      const at = this.#frame(BINARY, DATA_HEADER_BYTES + take);
      this.#tailAt = at - headerBytes(DATA_HEADER_BYTES + take);
      this.#slab[at] = DataKind.DATA;
      this.#slab.writeUInt32BE(stream, at + 1);
      copyInto(this.#slab, at + DATA_HEADER_BYTES, payload, from, from + take);
      this.#tailStream = stream;
      this.#tailPayload = take;
      from += take;
    }
  }

  /** Writes what is waiting in one socket write (several only when a slab filled up meanwhile). */
  flush(): void {
    const earlier = this.#earlier;
    const waiting = this.#used - this.#start;
    this.#tailStream = 0;
    if (earlier.length === 0 && waiting === 0) return;
    const last = this.#slab.subarray(this.#start, this.#used);
    this.#start = this.#used;
    if (earlier.length > 0) this.#earlier = [];
    const socket = this.#socket;
    if (!socket || !this.isOpen()) return;
    this.writes++;
    if (earlier.length === 0) {
      socket.write(last);
      return;
    }
    socket.cork();
    for (const piece of earlier) socket.write(piece);
    if (waiting > 0) socket.write(last);
    socket.uncork();
  }

  /** Appends a frame header for a `length`-byte payload; returns where the payload goes. */
  #frame(opcode: number, length: number): number {
    const header = headerBytes(length);
    this.#reserve(header + length);
    const slab = this.#slab;
    let at = this.#used;
    slab[at++] = FIN | opcode;
    at = writeLength(slab, at, length);
    this.#used = at + length;
    return at;
  }

  /**
   * Makes room for `more` payload bytes in the tail data frame (its header may need a longer
   * length field: the frame's bytes move up). False when the slab is too full to grow it here.
   */
  #grow(more: number, maxPayload: number): boolean {
    const take = Math.min(more, maxPayload - this.#tailPayload);
    const before = DATA_HEADER_BYTES + this.#tailPayload;
    const after = before + take;
    const shift = headerBytes(after) - headerBytes(before);
    if (this.#used + shift + take > this.#slab.length) return false;
    if (shift > 0) {
      const body = this.#tailAt + headerBytes(before);
      this.#slab.copyWithin(body + shift, body, this.#used);
      this.#used += shift;
    }
    writeLength(this.#slab, this.#tailAt + 1, after);
    return true;
  }

  /** Makes room for `bytes` at the end of the slab, moving to a new slab when they do not fit. */
  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#slab.length) return;
    if (this.#used > this.#start) this.#earlier.push(this.#slab.subarray(this.#start, this.#used));
    this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
    this.#start = 0;
    this.#used = 0;
    this.#tailStream = 0;
  }
}

/** Below this many bytes a loop copies: a partial `set` or `copy` would allocate a view first. */
const SMALL_COPY = 64;

/** Copies `source[start, end)` to `target` at `at` without a view of a part of `source`. */
function copyInto(target: Buffer, at: number, source: Uint8Array, start: number, end: number): void {
  if (start === 0 && end === source.length) target.set(source, at);
  else if (end - start > SMALL_COPY) target.set(source.subarray(start, end), at);
  else for (let i = start, j = at; i < end; i++, j++) target[j] = source[i]!;
}

/** Writes the masked length field and an all-zero mask key at `at`; returns where the payload goes. */
function writeLength(slab: Buffer, at: number, length: number): number {
  let next = at;
  if (length <= 125) {
    slab[next++] = MASKED | length;
  } else if (length <= 0xffff) {
    slab[next++] = MASKED | 126;
    slab.writeUInt16BE(length, next);
    next += 2;
  } else {
    slab[next++] = MASKED | 127;
    slab.writeUInt32BE(0, next);
    slab.writeUInt32BE(length, next + 4);
    next += 8;
  }
  slab.writeUInt32BE(0, next);
  return next + 4;
}

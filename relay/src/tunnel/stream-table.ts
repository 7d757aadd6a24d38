/**
 * The streams multiplexed on one agent socket and their flow-control credit: how many payload
 * bytes the agent may still send on each. The relay grants credit as bytes leave it and spends
 * it as data frames arrive; an agent that overdraws broke the protocol.
 */
import type { StreamHandlers } from './stream.js';

export type LiveStream = { handlers: StreamHandlers; credit: number; headSeen: boolean };

export class StreamTable {
  private readonly streams = new Map<number, LiveStream>();
  private nextId = 1;
  /** Slots promised by the router to requests that have not opened their stream yet. */
  private reserved = 0;

  /** `window`: the credit every new stream starts with (the `welcome`'s streamWindow). */
  constructor(private readonly window: number) {}

  /** Streams live now. */
  get size(): number {
    return this.streams.size;
  }

  /** Streams live or promised: what counts against the socket's slots. */
  get used(): number {
    return this.streams.size + this.reserved;
  }

  /** Promises a slot to a request that will open its stream shortly. */
  reserve(): void {
    this.reserved++;
  }

  /** The promise was kept (the stream opened) or given up. */
  unreserve(): void {
    if (this.reserved > 0) this.reserved--;
  }

  /** Hands out the next stream id; ids are never reused on a socket. */
  allocate(): number {
    return this.nextId++;
  }

  /** Makes `id` (from `allocate`) live with a full window. */
  add(id: number, handlers: StreamHandlers): void {
    this.streams.set(id, { handlers, credit: this.window, headSeen: false });
  }

  get(id: number): LiveStream | undefined {
    return this.streams.get(id);
  }

  /** Ends a stream's life here; false when it was not live. */
  delete(id: number): boolean {
    return this.streams.delete(id);
  }

  /**
   * True when `id` was handed out: a frame for it after its end is late (frames cross a cancel
   * on the wire), while a frame for an id never handed out is a lie.
   */
  wasOpened(id: number): boolean {
    return id >= 1 && id < this.nextId;
  }

  /** Adds `bytes` of credit to a live stream; false (nothing to tell the agent) otherwise. */
  grant(id: number, bytes: number): boolean {
    const stream = this.streams.get(id);
    if (!stream || bytes <= 0) return false;
    stream.credit += bytes;
    return true;
  }

  /** Spends credit for `bytes` of payload received; false when the agent overdrew it. */
  spend(stream: LiveStream, bytes: number): boolean {
    stream.credit -= bytes;
    return stream.credit >= 0;
  }

  /** Empties the table, returning the streams that were live (the socket is gone). */
  clear(): LiveStream[] {
    const live = [...this.streams.values()];
    this.streams.clear();
    return live;
  }
}

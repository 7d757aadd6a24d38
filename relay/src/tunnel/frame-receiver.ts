/**
 * Everything an agent sends, checked before it acts: data frames (the hot path: one header
 * read, one map lookup, one credit check, then the bytes move on) and control frames, whose
 * per-stream kinds (`head`, `end`, `error`) are settled here against the stream table and
 * whose session kinds go to the session. Any breach of the protocol fails the whole socket.
 */
import {
  type AgentFrame,
  Breach,
  type BreachCode,
  CloseCode,
  DATA_HEADER_BYTES,
  DataKind,
  dataFrameKind,
  dataFrameStream,
  type HelloFrame,
  parseAgentFrame,
} from '@arena-relay/shared';
import type { StreamFailure } from './stream.js';
import type { LiveStream, StreamTable } from './stream-table.js';

/** Control frames about the session, not one stream. */
export type SessionFrame = Exclude<AgentFrame, { type: 'head' | 'end' | 'error' }>;

export interface ReceiverHost {
  readonly streams: StreamTable;
  readonly hello: HelloFrame | undefined;
  /** A session frame, valid and in order (the first frame is a hello). */
  onSessionFrame(frame: SessionFrame): void;
  /** A stream ended: its slot is free. */
  onStreamEnded(): void;
  /** Closes the socket for a breach (`breach`: its stable code, for the log); its streams fail. */
  fail(code: number, reason: string, breach?: BreachCode): void;
}

export class FrameReceiver {
  constructor(private readonly host: ReceiverHost) {}

  receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) this.onData(data);
    else this.onControl(data.toString('utf8'));
  }

  /** Allocates nothing but the payload's view (no decoded-frame object per frame). */
  private onData(data: Buffer): void {
    const kind = dataFrameKind(data);
    if (kind === 0) return this.breach(Breach.MALFORMED_DATA, 'malformed data frame');
    if (kind !== DataKind.DATA)
      return this.breach(Breach.WRONG_DATA_KIND, 'an agent may send only DATA frames');
    const id = dataFrameStream(data);
    const stream = this.host.streams.get(id);
    if (!stream) {
      // A stream the relay already cancelled or finished may still have frames in flight.
      if (this.host.streams.wasOpened(id)) return;
      return this.breach(Breach.UNKNOWN_STREAM, `data for stream ${id}, which was never opened`);
    }
    if (!stream.headSeen) return this.breach(Breach.STREAM_ORDER, `data before head on stream ${id}`);
    if (!this.host.streams.spend(stream, data.byteLength - DATA_HEADER_BYTES))
      return this.breach(Breach.CREDIT_EXCEEDED, `stream ${id} exceeded its credit`);
    stream.handlers.onData(data.subarray(DATA_HEADER_BYTES));
  }

  private onControl(text: string): void {
    const parsed = parseAgentFrame(text);
    if (!parsed.ok) return this.breach(parsed.code, parsed.reason);
    const frame = parsed.frame;
    if (!this.host.hello && frame.type !== 'hello')
      return this.breach(Breach.HANDSHAKE_MISSING, 'first frame must be hello');
    switch (frame.type) {
      case 'head': {
        const stream = this.streamFor(frame.stream);
        if (!stream) return;
        if (stream.headSeen) return this.breach(Breach.STREAM_ORDER, `second head on stream ${frame.stream}`);
        stream.headSeen = true;
        return stream.handlers.onHead(frame.status, frame.headers);
      }
      case 'end': {
        const stream = this.finish(frame.stream);
        if (!stream) return;
        if (!stream.headSeen) {
          return stream.handlers.onFailure({
            code: 'protocol_error',
            message: 'agent ended a stream without a head',
          });
        }
        return stream.handlers.onEnd();
      }
      case 'error': {
        const stream = this.finish(frame.stream);
        if (!stream) return;
        const failure: StreamFailure = { code: frame.code, message: frame.message };
        if (frame.status !== undefined) failure.status = frame.status;
        if (frame.scope !== undefined) failure.scope = frame.scope;
        if (frame.reason !== undefined) failure.reason = frame.reason;
        if (frame.retryAfterMs !== undefined) failure.retryAfterMs = frame.retryAfterMs;
        return stream.handlers.onFailure(failure);
      }
      default:
        return this.host.onSessionFrame(frame);
    }
  }

  /** The live stream a frame names; undefined (frame dropped) when it already ended. */
  private streamFor(id: number): LiveStream | undefined {
    const stream = this.host.streams.get(id);
    if (!stream && !this.host.streams.wasOpened(id)) {
      this.breach(Breach.UNKNOWN_STREAM, `frame for stream ${id}, which was never opened`);
    }
    return stream;
  }

  /** The live stream a final frame names, taken out of the table. */
  private finish(id: number): LiveStream | undefined {
    const stream = this.streamFor(id);
    if (!stream) return undefined;
    this.host.streams.delete(id);
    this.host.onStreamEnded();
    return stream;
  }

  private breach(code: BreachCode, reason: string): void {
    this.host.fail(CloseCode.PROTOCOL_ERROR, reason, code);
  }
}

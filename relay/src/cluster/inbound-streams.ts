/**
 * The agent side of cross-relay streams: another relay asked to open a stream on one of this
 * relay's agents. Opens it locally and sends ACK, HEAD, DATA…, END or ERROR back; takes the
 * origin's CANCEL and CREDIT; drops the streams of an origin relay that is gone.
 */
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { StreamHandle } from '../tunnel/stream.js';
import { encodeControl, Kind, type OpenMessage } from './envelope.js';

type Inbound = { from: string; ref: number; handle: StreamHandle | undefined };

export class InboundStreams {
  private readonly streams = new Map<string, Inbound>();

  constructor(
    private readonly hub: Pick<AgentHub, 'sessions'>,
    /** Best-effort sends to a relay's channel (never reject): a message, and a DATA's payload. */
    private readonly reply: (relayId: string, message: Buffer) => void,
    private readonly replyData: (relayId: string, ref: number, payload: Buffer) => void,
  ) {}

  open(body: OpenMessage, bytes: Buffer | undefined): void {
    const { from, ref } = body;
    const reply = (msg: Buffer) => this.reply(from, msg);
    const session = this.hub.sessions.get(body.session);
    if (!session?.routable) {
      return reply(
        encodeControl(Kind.ERROR, { ref, code: 'agent_gone', message: 'agent no longer connected here' }),
      );
    }
    if (!session.hasCapacity) {
      return reply(encodeControl(Kind.ERROR, { ref, code: 'busy', message: 'agent at capacity' }));
    }
    const key = `${from}:${ref}`;
    const entry: Inbound = { from, ref, handle: undefined };
    this.streams.set(key, entry);
    reply(encodeControl(Kind.ACK, { ref }));
    session.reserve();
    const { model, ...request } = body.request;
    entry.handle = session.open(
      { ...request, bodyJson: bytes, ...(model !== undefined && { model }) },
      {
        onHead: (status, headers) => reply(encodeControl(Kind.HEAD, { ref, status, headers })),
        onData: (payload) => this.replyData(from, ref, payload),
        onEnd: () => {
          this.streams.delete(key);
          reply(encodeControl(Kind.END, { ref }));
        },
        onFailure: (failure) => {
          this.streams.delete(key);
          reply(encodeControl(Kind.ERROR, { ref, ...failure }));
        },
      },
    );
  }

  /** Streams opened for other relays, in flight. */
  get size(): number {
    return this.streams.size;
  }

  cancel(from: string, ref: number, reason: string | undefined): void {
    const key = `${from}:${ref}`;
    const stream = this.streams.get(key);
    this.streams.delete(key);
    stream?.handle?.cancel(reason ?? 'cancelled by the consumer relay');
  }

  grant(from: string, ref: number, bytes: number): void {
    this.streams.get(`${from}:${ref}`)?.handle?.grant(bytes);
  }

  /** The origin relay is gone: cancel its streams, and tell it in case it was only slow. */
  relayGone(relayId: string): void {
    for (const [key, stream] of [...this.streams]) {
      if (stream.from !== relayId) continue;
      this.streams.delete(key);
      stream.handle?.cancel(`relay ${relayId} holding the consumer is gone`);
      // If that relay was only slow (missed heartbeats under load), it must not wait forever
      // for a stream we just cancelled: tell it, best effort.
      this.reply(
        relayId,
        encodeControl(Kind.ERROR, {
          ref: stream.ref,
          code: 'agent_gone',
          message: 'the agent relay lost sight of this relay',
        }),
      );
    }
  }

  close(): void {
    for (const stream of this.streams.values()) stream.handle?.cancel('relay shutting down');
    this.streams.clear();
  }
}

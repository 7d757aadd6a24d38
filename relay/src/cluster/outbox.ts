/**
 * What this relay sends another over Redis, gathered per event-loop turn: the DATA (and credit,
 * head, end…) of every forwarded stream bound for one relay leaves in one PUBLISH, a BATCH, at the
 * turn's end, instead of one PUBLISH per frame. Messages keep the order they were sent in (one
 * queue per relay, one Redis connection publishing), so each stream's order holds. A lone
 * message goes as it is; one too large for a batch goes alone, after what was queued before it.
 * A relay of an older release drops BATCH: a relay gets batches only once it said it takes them
 * (`takesBatch`); until then each message leaves at once in a PUBLISH of its own, as it used to.
 */
import {
  BATCH_MEMBER_HEADER,
  DATA_MESSAGE_HEADER,
  ENVELOPE_BATCH_LIMIT,
  ENVELOPE_BATCH_MESSAGES,
  encodeBatch,
  encodeData,
} from './envelope.js';

/**
 * `messages[i]` is a whole message, or (where `refs[i]` > 0) the payload of a DATA for stream
 * `refs[i]`, held as the view it came in until the batch copies it: one copy per payload.
 */
type Queue = { messages: Buffer[]; refs: number[]; bytes: number };

/** Wire size of a BATCH of `count` messages of `bytes` in all. */
const batchSize = (count: number, bytes: number): number => 1 + bytes + BATCH_MEMBER_HEADER * count;

export class Outbox {
  private readonly queues = new Map<string, Queue>();
  private scheduled = false;
  /** Relays that said they take BATCH (relay ids are never reused: what one said holds). */
  private readonly batchPeers = new Set<string>();

  /**
   * `publish`: sends one message to a relay's channel (best effort: it never rejects). `batching`
   * false: never a BATCH, whatever relays say (as the release before them sent).
   */
  constructor(
    private readonly publish: (relayId: string, message: Buffer) => void,
    private readonly batching = true,
  ) {}

  /** `relayId` said it takes BATCH envelopes. */
  takesBatch(relayId: string): void {
    if (this.batching) this.batchPeers.add(relayId);
  }

  /** `relayId` left the cluster: what is queued for it leaves now, in order. */
  forget(relayId: string): void {
    const queue = this.queues.get(relayId);
    if (queue) this.flushQueue(relayId, queue);
    this.batchPeers.delete(relayId);
  }

  /** Queues `message` for `relayId`; it leaves at the end of this turn (at once to a relay without BATCH). */
  send(relayId: string, message: Buffer): void {
    this.queue(relayId, message, 0);
  }

  /** Queues a DATA of `payload` (a view, not copied until the batch is built) for stream `ref` at `relayId`. */
  sendData(relayId: string, ref: number, payload: Buffer): void {
    this.queue(relayId, payload, ref);
  }

  private queue(relayId: string, part: Buffer, ref: number): void {
    if (!this.batchPeers.has(relayId)) return this.publish(relayId, whole(part, ref));
    let queue = this.queues.get(relayId);
    if (!queue) {
      queue = { messages: [], refs: [], bytes: 0 };
      this.queues.set(relayId, queue);
    }
    const length = ref > 0 ? DATA_MESSAGE_HEADER + part.length : part.length;
    const count = queue.messages.length + 1;
    if (count > ENVELOPE_BATCH_MESSAGES || batchSize(count, queue.bytes + length) > ENVELOPE_BATCH_LIMIT)
      this.flushQueue(relayId, queue);
    if (batchSize(1, length) > ENVELOPE_BATCH_LIMIT) return this.publish(relayId, whole(part, ref));
    queue.messages.push(part);
    queue.refs.push(ref);
    queue.bytes += length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Publishes everything queued now (the turn ended, or the relay is closing). */
  readonly flush = (): void => {
    this.scheduled = false;
    for (const [relayId, queue] of this.queues) this.flushQueue(relayId, queue);
    this.queues.clear();
  };

  private flushQueue(relayId: string, queue: Queue): void {
    const { messages, refs, bytes } = queue;
    if (messages.length === 0) return;
    queue.messages = [];
    queue.refs = [];
    queue.bytes = 0;
    this.publish(
      relayId,
      messages.length === 1 ? whole(messages[0]!, refs[0]!) : encodeBatch(messages, bytes, refs),
    );
  }
}

/** A queued part as a message of its own. */
const whole = (part: Buffer, ref: number): Buffer => (ref > 0 ? encodeData(ref, part) : part);

/**
 * What this relay sends another over Redis, gathered per event-loop turn: the DATA (and credit,
 * head, end…) of every forwarded stream bound for one relay leaves in one PUBLISH, a BATCH, at the
 * turn's end, instead of one PUBLISH per frame. Messages keep the order they were sent in (one
 * queue per relay, one Redis connection publishing), so each stream's order holds. A lone
 * message goes as it is; one too large for a batch goes alone, after what was queued before it.
 */
import {
  BATCH_MEMBER_HEADER,
  ENVELOPE_BATCH_LIMIT,
  ENVELOPE_BATCH_MESSAGES,
  encodeBatch,
} from './envelope.js';

type Queue = { messages: Buffer[]; bytes: number };

/** Wire size of a BATCH of `count` messages of `bytes` in all. */
const batchSize = (count: number, bytes: number): number => 1 + bytes + BATCH_MEMBER_HEADER * count;

export class Outbox {
  private readonly queues = new Map<string, Queue>();
  private scheduled = false;

  /** `publish`: sends one message to a relay's channel (best effort: it never rejects). */
  constructor(private readonly publish: (relayId: string, message: Buffer) => void) {}

  /** Queues `message` for `relayId`; it leaves at the end of this turn. */
  send(relayId: string, message: Buffer): void {
    let queue = this.queues.get(relayId);
    if (!queue) {
      queue = { messages: [], bytes: 0 };
      this.queues.set(relayId, queue);
    }
    const count = queue.messages.length + 1;
    if (
      count > ENVELOPE_BATCH_MESSAGES ||
      batchSize(count, queue.bytes + message.length) > ENVELOPE_BATCH_LIMIT
    )
      this.flushQueue(relayId, queue);
    if (batchSize(1, message.length) > ENVELOPE_BATCH_LIMIT) return this.publish(relayId, message);
    queue.messages.push(message);
    queue.bytes += message.length;
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
    const { messages, bytes } = queue;
    if (messages.length === 0) return;
    queue.messages = [];
    queue.bytes = 0;
    this.publish(relayId, messages.length === 1 ? messages[0]! : encodeBatch(messages, bytes));
  }
}

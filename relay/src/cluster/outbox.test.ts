/**
 * The cross-relay outbox: what one turn sends a relay leaves in one PUBLISH, in the order it was
 * sent (so each stream's frames keep theirs), and a batch never grows past what a receiver takes.
 * A relay that never said it takes BATCH (an older release drops them) gets one publish per message.
 */
import { describe, expect, it } from 'vitest';
import {
  type Decoded,
  decode,
  decodeBatch,
  ENVELOPE_BATCH_LIMIT,
  ENVELOPE_BATCH_MESSAGES,
  encodeControl,
  encodeData,
  Kind,
} from './envelope.js';
import { Outbox } from './outbox.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recording() {
  const published: Array<{ relayId: string; message: Buffer }> = [];
  const outbox = new Outbox((relayId, message) => published.push({ relayId, message }));
  outbox.takesBatch('relay-b');
  outbox.takesBatch('relay-c');
  /** What one publish carried, as the receiver decodes it. */
  const members = (message: Buffer): Decoded[] =>
    message[0] === Kind.BATCH ? (decodeBatch(message) ?? []) : [decode(message)!];
  return { published, outbox, members };
}

const dataOf = (m: Decoded) => (m.kind === Kind.DATA ? `${m.ref}:${m.payload.toString()}` : `ctl:${m.kind}`);

describe('Outbox', () => {
  it('sends the frames of several streams in one turn as one publish per relay, each stream in order', async () => {
    const { published, outbox, members } = recording();
    for (let i = 0; i < 3; i++) {
      // A DATA queued whole, or as the bare payload whose header the batch writes: the same on the wire.
      for (const ref of [1, 2, 3]) {
        if (ref === 2) outbox.sendData('relay-c', ref, Buffer.from(`chunk ${i}`));
        else outbox.send('relay-c', encodeData(ref, Buffer.from(`chunk ${i}`)));
      }
    }
    outbox.send('relay-c', encodeControl(Kind.END, { ref: 2 }));
    outbox.sendData('relay-b', 9, Buffer.from('other relay'));
    expect(published).toHaveLength(0); // nothing leaves before the turn ends
    await turn();
    expect(published.map((p) => p.relayId).sort()).toEqual(['relay-b', 'relay-c']);
    const toC = members(published.find((p) => p.relayId === 'relay-c')!.message);
    expect(toC.map(dataOf)).toEqual([
      '1:chunk 0',
      '2:chunk 0',
      '3:chunk 0',
      '1:chunk 1',
      '2:chunk 1',
      '3:chunk 1',
      '1:chunk 2',
      '2:chunk 2',
      '3:chunk 2',
      `ctl:${Kind.END}`,
    ]);
    // A lone message goes as it is, not wrapped.
    const toB = published.find((p) => p.relayId === 'relay-b')!.message;
    expect(toB[0]).toBe(Kind.DATA);
    expect(members(toB).map(dataOf)).toEqual(['9:other relay']);
    // The next turn starts a new batch.
    outbox.send('relay-c', encodeData(1, Buffer.from('next')));
    await turn();
    expect(published).toHaveLength(3);
    expect(members(published[2]!.message).map(dataOf)).toEqual(['1:next']);
  });

  it('closes a batch before it passes the byte or message cap; an oversized message goes alone, in order', async () => {
    const { published, outbox, members } = recording();
    const big = Buffer.alloc(100_000, 0x61);
    for (let i = 0; i < 6; i++) outbox.send('relay-c', encodeData(1, big));
    const huge = encodeData(1, Buffer.alloc(ENVELOPE_BATCH_LIMIT, 0x62));
    outbox.sendData('relay-c', 1, huge.subarray(5));
    outbox.sendData('relay-c', 1, Buffer.from('after'));
    await turn();
    for (const { message } of published) expect(message.length).toBeLessThanOrEqual(huge.length);
    const all = published.flatMap((p) => members(p.message));
    expect(all.map((m) => (m.kind === Kind.DATA ? m.payload.length : -1))).toEqual([
      ...Array(6).fill(100_000),
      ENVELOPE_BATCH_LIMIT,
      5,
    ]);
    expect(
      published
        .filter((p) => p.message[0] === Kind.BATCH)
        .every((p) => p.message.length <= ENVELOPE_BATCH_LIMIT),
    ).toBe(true);

    published.length = 0;
    for (let i = 0; i < ENVELOPE_BATCH_MESSAGES + 10; i++)
      outbox.send('relay-c', encodeData(1, Buffer.from([i & 0xff])));
    await turn();
    expect(published).toHaveLength(2);
    expect(published.map((p) => members(p.message).length)).toEqual([ENVELOPE_BATCH_MESSAGES, 10]);
  });

  it('to a relay that never said it takes BATCH (an older release), each message leaves at once in its own publish, in order', async () => {
    const { published, outbox, members } = recording();
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      outbox.sendData('relay-old', 1, Buffer.from(`chunk ${i}`));
      outbox.send('relay-old', encodeData(2, Buffer.from(`chunk ${i}`)));
      sent.push(`1:chunk ${i}`, `2:chunk ${i}`);
    }
    outbox.send('relay-old', encodeControl(Kind.END, { ref: 1 }));
    sent.push(`ctl:${Kind.END}`);
    outbox.sendData('relay-c', 7, Buffer.from('batched'));
    outbox.sendData('relay-c', 7, Buffer.from('too'));
    // As the previous release did: no waiting for the turn's end, no BATCH, nothing wrapped.
    expect(published.map((p) => p.relayId)).toEqual(Array(sent.length).fill('relay-old'));
    expect(published.every((p) => p.message[0] !== Kind.BATCH)).toBe(true);
    expect(published.map((p) => dataOf(decode(p.message)!))).toEqual(sent);
    await turn();
    const toC = published.slice(sent.length);
    expect(toC.map((p) => [p.relayId, p.message[0]])).toEqual([['relay-c', Kind.BATCH]]);
    expect(members(toC[0]!.message).map(dataOf)).toEqual(['7:batched', '7:too']);

    // Once it says it takes them (its advert or its OPEN did), the same messages go as one BATCH.
    outbox.takesBatch('relay-old');
    published.length = 0;
    outbox.sendData('relay-old', 3, Buffer.from('a'));
    outbox.send('relay-old', encodeControl(Kind.END, { ref: 3 }));
    expect(published).toHaveLength(0);
    await turn();
    expect(published.map((p) => p.message[0])).toEqual([Kind.BATCH]);
    expect(members(published[0]!.message).map(dataOf)).toEqual(['3:a', `ctl:${Kind.END}`]);
  });

  it('an outbox of a relay acting as the release before BATCH never batches, whatever relays say', () => {
    const published: Buffer[] = [];
    const outbox = new Outbox((_relayId, message) => published.push(message), false);
    outbox.takesBatch('relay-c');
    outbox.sendData('relay-c', 1, Buffer.from('one'));
    outbox.sendData('relay-c', 1, Buffer.from('two'));
    expect(published.map((m) => dataOf(decode(m)!))).toEqual(['1:one', '1:two']);
  });

  it('a relay that left is forgotten: what was queued for it leaves first, then single messages', () => {
    const { published, outbox, members } = recording();
    outbox.sendData('relay-c', 1, Buffer.from('one'));
    outbox.sendData('relay-c', 1, Buffer.from('two'));
    outbox.forget('relay-c');
    outbox.send('relay-c', encodeControl(Kind.CANCEL, { from: 'a', ref: 1, reason: 'gone' }));
    expect(published.map((p) => members(p.message).map(dataOf))).toEqual([
      ['1:one', '1:two'],
      [`ctl:${Kind.CANCEL}`],
    ]);
    expect(published[1]!.message[0]).toBe(Kind.CANCEL);
  });

  it('flush sends what is queued at once (the relay is closing)', () => {
    const { published, outbox } = recording();
    outbox.send('relay-c', encodeControl(Kind.CANCEL, { from: 'a', ref: 1, reason: 'closing' }));
    outbox.flush();
    expect(published).toHaveLength(1);
    outbox.flush();
    expect(published).toHaveLength(1);
  });
});

/**
 * The cross-relay envelope's caps: whoever can publish on a relay's channel (a compromised peer,
 * anyone with Redis write access) cannot make it parse megabytes of JSON or take an OPEN body no
 * consumer could have sent. Over a cap the message is dropped like any malformed one.
 */
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeBatch,
  ENVELOPE_BATCH_LIMIT,
  ENVELOPE_BATCH_MESSAGES,
  ENVELOPE_BODY_LIMIT,
  ENVELOPE_JSON_LIMIT,
  encodeBatch,
  encodeControl,
  encodeData,
  encodeOpen,
  Kind,
  type OpenMessage,
} from './envelope.js';

/** A BATCH of `messages` as a sender would write it (no cap checked). */
const batch = (messages: Buffer[]) =>
  encodeBatch(
    messages,
    messages.reduce((n, m) => n + m.length, 0),
  );

const open = (headers: Record<string, string>, path = '/v1/chat/completions'): OpenMessage => ({
  from: 'relay-a',
  ref: 1,
  session: 's1',
  request: { method: 'POST', path, headers },
});

describe('envelope caps', () => {
  it('an OPEN whose JSON head is over ENVELOPE_JSON_LIMIT is dropped before it is parsed', () => {
    const small = encodeOpen(open({ 'content-type': 'application/json' }), Buffer.from('{}'));
    expect(decode(small)?.kind).toBe(Kind.OPEN);
    const huge = encodeOpen(open({ 'x-big': 'h'.repeat(ENVELOPE_JSON_LIMIT) }), Buffer.from('{}'));
    const started = performance.now();
    expect(decode(huge)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('an OPEN whose body is over ENVELOPE_BODY_LIMIT is dropped; one at the limit passes', () => {
    const at = encodeOpen(open({}), Buffer.alloc(ENVELOPE_BODY_LIMIT, 0x20));
    expect(decode(at)?.kind).toBe(Kind.OPEN);
    const over = encodeOpen(open({}), Buffer.alloc(ENVELOPE_BODY_LIMIT + 1, 0x20));
    expect(decode(over)).toBeUndefined();
  });

  it('a head length that claims more than the message is dropped', () => {
    const message = encodeOpen(open({}), undefined);
    message.writeUInt32BE(0xffff_ffff, 1);
    expect(decode(message)).toBeUndefined();
  });

  it('a control message over ENVELOPE_JSON_LIMIT, a path over 2048, an error message over 8192: dropped', () => {
    const ok = encodeControl(Kind.ERROR, { ref: 1, code: 'upstream_error', message: 'x'.repeat(8192) });
    expect(decode(ok)?.kind).toBe(Kind.ERROR);
    const long = encodeControl(Kind.ERROR, { ref: 1, code: 'upstream_error', message: 'x'.repeat(8193) });
    expect(decode(long)).toBeUndefined();
    const headers = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`h${i}`, 'v'.repeat(16)]));
    expect(decode(encodeControl(Kind.HEAD, { ref: 1, status: 200, headers }))).toBeUndefined();
    expect(decode(encodeOpen(open({}, `/${'p'.repeat(2048)}`), undefined))).toBeUndefined();
  });
});

describe('a BATCH from Redis', () => {
  const data = (ref: number, text: string) => encodeData(ref, Buffer.from(text));

  it('decodes to its members in order, payloads as views', () => {
    const members = decodeBatch(batch([data(1, 'a'), encodeControl(Kind.END, { ref: 1 }), data(2, 'é')]));
    expect(members?.map((m) => m.kind)).toEqual([Kind.DATA, Kind.END, Kind.DATA]);
    expect(members?.[2]).toMatchObject({ kind: Kind.DATA, ref: 2 });
    expect((members![2] as { payload: Buffer }).payload.toString()).toBe('é');
  });

  it('is dropped whole, nothing of it acted on, when any member is malformed, an OPEN or a BATCH', () => {
    const good = data(1, 'a');
    const head = encodeControl(Kind.HEAD, { ref: 1, status: 200, headers: {} });
    const badStatus = Buffer.from(head.toString('latin1').replace('200', '99'), 'latin1');
    for (const member of [
      badStatus,
      Buffer.from([Kind.ERROR, 0x7b]),
      Buffer.from([Kind.DATA, 0, 0]),
      Buffer.alloc(0),
      Buffer.from([0xff, 1, 2, 3, 4]),
      encodeOpen(
        { from: 'x', ref: 1, session: 's', request: { method: 'POST', path: '/', headers: {} } },
        undefined,
      ),
      batch([good, good]),
    ]) {
      expect(decodeBatch(batch([good, member, good]))).toBeUndefined();
    }
  });

  it('is dropped when its lengths do not tile it exactly, or it is empty', () => {
    const wire = batch([data(1, 'abc'), data(2, 'def')]);
    for (const cut of [2, 5, wire.length - 1]) expect(decodeBatch(wire.subarray(0, cut))).toBeUndefined();
    const lying = Buffer.from(wire);
    lying.writeUInt32BE(0xffff_ffff, 1);
    expect(decodeBatch(lying)).toBeUndefined();
    expect(decodeBatch(Buffer.from([Kind.BATCH]))).toBeUndefined();
    expect(decodeBatch(Buffer.concat([wire, Buffer.from([0, 0])]))).toBeUndefined();
  });

  it('over ENVELOPE_BATCH_LIMIT bytes or ENVELOPE_BATCH_MESSAGES members is dropped unread, fast', () => {
    const over = batch([data(1, 'x'.repeat(ENVELOPE_BATCH_LIMIT))]);
    const many = batch(
      Array.from({ length: ENVELOPE_BATCH_MESSAGES + 1 }, () => encodeControl(Kind.END, { ref: 1 })),
    );
    expect(many.length).toBeLessThan(ENVELOPE_BATCH_LIMIT);
    const at = batch(
      Array.from({ length: ENVELOPE_BATCH_MESSAGES }, () => encodeControl(Kind.END, { ref: 1 })),
    );
    expect(decodeBatch(at)).toHaveLength(ENVELOPE_BATCH_MESSAGES);
    const started = performance.now();
    expect(decodeBatch(over)).toBeUndefined();
    expect(decodeBatch(many)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('is never taken by the single-message decoder', () => {
    expect(decode(batch([data(1, 'a'), data(1, 'b')]))).toBeUndefined();
  });
});

/**
 * The cross-relay envelope's caps: whoever can publish on a relay's channel (a compromised peer,
 * anyone with Redis write access) cannot make it parse megabytes of JSON or take an OPEN body no
 * consumer could have sent. Over a cap the message is dropped like any malformed one.
 */
import { describe, expect, it } from 'vitest';
import {
  decode,
  ENVELOPE_BODY_LIMIT,
  ENVELOPE_JSON_LIMIT,
  encodeControl,
  encodeOpen,
  Kind,
  type OpenMessage,
} from './envelope.js';

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

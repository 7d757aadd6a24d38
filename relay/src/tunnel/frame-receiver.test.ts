/** The relay's frame receiver names the stable breach code of every breach it closes a socket for. */
import { Breach, type BreachCode, CloseCode, DataKind, encodeDataFrame } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { FrameReceiver, type ReceiverHost } from './frame-receiver.js';
import { StreamTable } from './stream-table.js';

const HELLO = {
  type: 'hello',
  version: 1,
  agentVersion: '1.0.0',
  instanceId: 'i',
  capabilities: ['chat'],
  models: ['m'],
  maxConcurrency: 1,
  ready: true,
};

/** A host that has said hello (unless `fresh`) and records every close. */
function host(fresh = false) {
  const closes: { code: number; reason: string; breach?: BreachCode }[] = [];
  const target: ReceiverHost = {
    streams: new StreamTable(1024),
    hello: fresh ? undefined : (HELLO as ReceiverHost['hello']),
    onSessionFrame: () => {},
    onStreamEnded: () => {},
    fail: (code, reason, breach) => void closes.push({ code, reason, breach }),
  };
  return { receiver: new FrameReceiver(target), closes };
}

describe('FrameReceiver breach codes', () => {
  it.each([
    ['not JSON', Buffer.from('{"type":'), false, Breach.NOT_JSON],
    ['a schema breach', Buffer.from('{"type":"head","stream":0}'), false, Breach.INVALID_FRAME],
    ['a short binary frame', Buffer.from([1, 0]), true, Breach.MALFORMED_DATA],
    [
      'a BODY frame from an agent',
      encodeDataFrame(DataKind.BODY, 1, Buffer.from('x')),
      true,
      Breach.WRONG_DATA_KIND,
    ],
    [
      'data for a stream never opened',
      encodeDataFrame(DataKind.DATA, 9, Buffer.from('x')),
      true,
      Breach.UNKNOWN_STREAM,
    ],
    [
      'an end for a stream never opened',
      Buffer.from('{"type":"end","stream":4}'),
      false,
      Breach.UNKNOWN_STREAM,
    ],
  ])('%s closes 1002 with its code', (_name, data, binary, breach) => {
    const { receiver, closes } = host();
    receiver.receive(data, binary);
    expect(closes).toEqual([{ code: CloseCode.PROTOCOL_ERROR, reason: expect.any(String), breach }]);
  });

  it('a frame before hello is HANDSHAKE_MISSING', () => {
    const { receiver, closes } = host(true);
    receiver.receive(Buffer.from('{"type":"models","models":[]}'), false);
    expect(closes).toEqual([
      {
        code: CloseCode.PROTOCOL_ERROR,
        reason: 'first frame must be hello',
        breach: Breach.HANDSHAKE_MISSING,
      },
    ]);
  });
});

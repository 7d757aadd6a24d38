import { setImmediate as nextTurn } from 'node:timers/promises';
import { type AgentFrame, DATA_HEADER_BYTES } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { framesOf, recordingSocket } from '../test-support/ws-frames.js';
import { RelayStream, type StreamOutcome } from './relay-stream.js';
import { turnChannel } from './session-channel.js';
import { TurnWriter } from './turn-writer.js';

/**
 * A stream's channel over a real TurnWriter: `control` and `payloads` read what the stream has
 * handed to the channel (the writer is flushed first; batches the channel holds for the turn's
 * end are not).
 */
function recorder() {
  const socket = recordingSocket();
  const writer = new TurnWriter(() => true);
  writer.attach(socket);
  const channel = turnChannel(
    writer,
    () => true,
    () => undefined,
  );
  const outcomes: StreamOutcome[] = [];
  const frames = () => {
    writer.flush();
    return socket.writes.flatMap(framesOf);
  };
  return {
    get control(): AgentFrame[] {
      return frames().flatMap((f) => ('text' in f ? [f.text] : []));
    },
    get payloads(): Buffer[] {
      return frames().flatMap((f) => ('payload' in f ? [f.payload] : []));
    },
    outcomes,
    channel,
    onDone: (_: RelayStream, outcome: StreamOutcome) => outcomes.push(outcome),
  };
}

describe('RelayStream credit', () => {
  it('sends exactly the window, keeps the rest pending, and resumes on credit', async () => {
    const r = recorder();
    const stream = new RelayStream(7, 10, 1024, r.channel, r.onDone);
    let writable = 0;
    stream.onWritable = () => writable++;
    expect(stream.write(Buffer.from('0123456'))).toBe(true);
    expect(stream.write(Buffer.from('789abcdef'))).toBe(false);
    await nextTurn();
    expect(Buffer.concat(r.payloads).toString()).toBe('0123456789');
    stream.grant(3);
    await nextTurn();
    expect(Buffer.concat(r.payloads).toString()).toBe('0123456789abc');
    expect(writable).toBe(0);
    stream.grant(100);
    await nextTurn();
    expect(Buffer.concat(r.payloads).toString()).toBe('0123456789abcdef');
    expect(writable).toBe(1);
    expect(stream.bytesOut).toBe(16);
  });

  it('holds end until pending bytes have gone out', () => {
    const r = recorder();
    const stream = new RelayStream(1, 4, 1024, r.channel, r.onDone);
    stream.head(200, {});
    stream.write(Buffer.from('abcdef'));
    stream.end();
    expect(r.control.map((f) => f.type)).toEqual(['head']);
    stream.grant(2);
    expect(r.control.map((f) => f.type)).toEqual(['head', 'end']);
    expect(r.outcomes).toEqual([{ kind: 'ended' }]);
  });

  it('splits chunks larger than the frame limit', async () => {
    const r = recorder();
    const stream = new RelayStream(1, 1000, DATA_HEADER_BYTES + 4, r.channel, r.onDone);
    stream.write(Buffer.from('abcdefghij'));
    await nextTurn();
    expect(r.payloads.map(String)).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('sends the chunks of one turn as one frame, and flushes them before end', async () => {
    const r = recorder();
    const stream = new RelayStream(1, 1000, 1024, r.channel, r.onDone);
    stream.head(200, {});
    stream.write(Buffer.from('data: a\n\n'));
    stream.write(Buffer.from('data: b\n\n'));
    expect(r.payloads).toEqual([]);
    await nextTurn();
    expect(r.payloads.map(String)).toEqual(['data: a\n\ndata: b\n\n']);
    stream.write(Buffer.from('data: [DONE]\n\n'));
    stream.end();
    expect(r.payloads.map(String)).toEqual(['data: a\n\ndata: b\n\n', 'data: [DONE]\n\n']);
    expect(r.control.map((f) => f.type)).toEqual(['head', 'end']);
  });

  it('sends a paced chunk alone as its frame, and splits a turn of several over the frame limit in order', async () => {
    const r = recorder();
    const stream = new RelayStream(1, 1000, DATA_HEADER_BYTES + 4, r.channel, r.onDone);
    stream.write(Buffer.from('ab'));
    await nextTurn();
    stream.write(Buffer.from('cd'));
    await nextTurn();
    stream.write(Buffer.from('efg'));
    stream.write(Buffer.from('hij'));
    stream.write(Buffer.from('k'));
    await nextTurn();
    expect(r.payloads.map(String)).toEqual(['ab', 'cd', 'efgh', 'ijk']);
  });

  it('aborts the upstream on cancel and sends nothing more', async () => {
    const r = recorder();
    const stream = new RelayStream(1, 4, 1024, r.channel, r.onDone);
    let upstreamAborted = 0;
    stream.onAbort = () => upstreamAborted++;
    stream.write(Buffer.from('abcdef'));
    stream.cancel();
    stream.cancel();
    stream.grant(10);
    stream.end();
    await nextTurn();
    expect(stream.aborted).toBe(true);
    expect(upstreamAborted).toBe(1);
    // The relay asked for nothing more: even the batched bytes are dropped.
    expect(r.payloads).toEqual([]);
    expect(r.control).toEqual([]);
    expect(r.outcomes).toEqual([{ kind: 'cancelled' }]);
  });
});

import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { framesOf, recordingSocket } from '../test-support/ws-frames.js';
import { RelayStream } from './relay-stream.js';
import { turnChannel } from './session-channel.js';
import { TurnWriter } from './turn-writer.js';

function setup(open = () => true) {
  const socket = recordingSocket();
  const writer = new TurnWriter(open);
  writer.attach(socket);
  const channel = turnChannel(writer, open, () => undefined);
  return { socket, writer, channel, frames: () => socket.writes.flatMap(framesOf) };
}

describe('one socket write per turn', () => {
  it('sends N frames of one turn, of many streams and kinds, in one write and in order', async () => {
    const { socket, channel, frames } = setup();
    const streams = Array.from(
      { length: 50 },
      (_, i) => new RelayStream(i + 1, 1 << 20, 16 * 1024, channel, () => undefined),
    );
    for (const stream of streams) stream.head(200, { 'content-type': 'text/event-stream' });
    for (const stream of streams) stream.write(Buffer.from(`data: ${stream.id}\n\n`));
    streams[0]!.write(Buffer.from('data: again\n\n'));
    streams[1]!.end();
    expect(socket.writes).toEqual([]);
    await nextTurn();
    expect(socket.writes).toHaveLength(1);
    const written = frames();
    // 50 heads, stream 2's data and end, then one data frame per other stream (stream 1's two chunks in one).
    expect(written).toHaveLength(50 + 2 + 49);
    expect(written.slice(0, 50).map((f) => ('text' in f ? f.text.type : ''))).toEqual(Array(50).fill('head'));
    expect(written[50]).toEqual({ stream: 2, payload: Buffer.from('data: 2\n\n') });
    expect(written[51]).toEqual({ text: { type: 'end', stream: 2 } });
    expect(written[52]).toEqual({ stream: 1, payload: Buffer.from('data: 1\n\ndata: again\n\n') });
    // The next turn's frames are the next write.
    streams[2]!.write(Buffer.from('x'));
    await nextTurn();
    expect(socket.writes).toHaveLength(2);
    expect(framesOf(socket.writes[1]!)).toEqual([{ stream: 3, payload: Buffer.from('x') }]);
  });

  it('keeps credit as before: a stream out of credit waits in the same turn-batched writes', async () => {
    const { socket, channel, frames } = setup();
    const stream = new RelayStream(9, 5, 1024, channel, () => undefined);
    let writable = 0;
    stream.onWritable = () => writable++;
    expect(stream.write(Buffer.from('abcdefgh'))).toBe(false);
    await nextTurn();
    expect(frames()).toEqual([{ stream: 9, payload: Buffer.from('abcde') }]);
    stream.grant(2);
    stream.grant(10);
    expect(writable).toBe(1);
    await nextTurn();
    expect(socket.writes).toHaveLength(2);
    expect(framesOf(socket.writes[1]!)).toEqual([{ stream: 9, payload: Buffer.from('fgh') }]);
    expect(stream.bytesOut).toBe(8);
  });

  it('grows a frame past the 125-byte length form, uses the 64-bit one, and splits at the frame limit', () => {
    const { writer, frames } = setup();
    const big = Buffer.alloc(70_000, 0x61);
    writer.data(1, Buffer.from('abc'), 0, 3, 1 << 20);
    writer.data(1, big, 0, 200, 1 << 20); // 5 + 203 bytes: the 16-bit length form
    writer.data(1, big, 0, big.length, 1 << 20); // more than the slab holds: a frame of its own, 64-bit form
    writer.data(2, big, 10, 30, 8); // 20 bytes at most 8 a frame
    writer.text('{"type":"end","stream":1}');
    writer.flush();
    const written = frames();
    const sizes = written.map((f) => ('payload' in f ? f.payload.length : -1));
    expect(sizes).toEqual([3 + 200, 70_000, 8, 8, 4, -1]);
    expect(written[0]).toEqual({
      stream: 1,
      payload: Buffer.concat([Buffer.from('abc'), big.subarray(0, 200)]),
    });
    expect((written[1] as { payload: Buffer }).payload.equals(big)).toBe(true);
    expect(written.slice(2, 5)).toEqual([
      { stream: 2, payload: big.subarray(10, 18) },
      { stream: 2, payload: big.subarray(18, 26) },
      { stream: 2, payload: big.subarray(26, 30) },
    ]);
    expect(written[5]).toEqual({ text: { type: 'end', stream: 1 } });
  });

  it('fills slab after slab without losing or reordering a byte, still one flush', () => {
    const { socket, writer, frames } = setup();
    const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.from(`chunk ${i} ${'é'.repeat(i % 40)}`));
    chunks.forEach((chunk, i) => {
      writer.data((i % 7) + 1, chunk, 0, chunk.length, 16 * 1024);
      if (i % 100 === 0) writer.text(JSON.stringify({ type: 'end', stream: 1000 + i }));
    });
    writer.flush();
    expect(writer.writes).toBe(1);
    expect(socket.writes.length).toBeGreaterThan(1); // the slabs, corked into one writev
    const written = frames();
    const data = written.flatMap((f) => ('payload' in f ? [f.payload] : []));
    expect(Buffer.concat(data).equals(Buffer.concat(chunks))).toBe(true);
    expect(written.filter((f) => 'text' in f)).toHaveLength(30);
  });

  it('drops what waits once the socket may not send, and writes nothing before a socket', async () => {
    let open = true;
    const { socket, writer, channel } = setup(() => open);
    const stream = new RelayStream(1, 100, 1024, channel, () => undefined);
    stream.write(Buffer.from('late'));
    open = false;
    await nextTurn();
    expect(socket.writes).toEqual([]);
    const unattached = new TurnWriter(() => true);
    unattached.text('{"type":"end","stream":1}');
    unattached.flush();
    expect(unattached.writes).toBe(0);
    expect(writer.writes).toBe(0);
  });
});

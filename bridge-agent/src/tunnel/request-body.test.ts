/** BODY frame intake: exactly the announced bytes, for announced streams only; pieces kept as they came. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyIntake, openBreach, RequestBody } from './request-body.js';

const open = { type: 'open' as const, stream: 1, method: 'POST' as const, path: '/v1/x', headers: {} };
const openOf = (stream: number) => ({ ...open, stream });

describe('RequestBody', () => {
  it('is complete at exactly the announced length, however the bytes are cut (non-ASCII too)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (text, rawCuts) => {
          const bytes = Buffer.from(text);
          const cuts = [...new Set(rawCuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
          const body = new RequestBody(1, bytes.length);
          const points = [0, ...cuts, bytes.length];
          for (let i = 1; i < points.length; i++) {
            const progress = body.add(bytes.subarray(points[i - 1], points[i]));
            expect(progress).toEqual({ ok: true, complete: i === points.length - 1 });
          }
          const out = body.bytes();
          expect(Buffer.concat(Buffer.isBuffer(out) ? [out] : [...out]).equals(bytes)).toBe(true);
        },
      ),
    );
  });

  it('hands back the one frame itself, not a copy, when the body came whole', () => {
    const payload = Buffer.from('{"model":"m"}');
    const body = new RequestBody(1, payload.length);
    body.add(payload);
    expect(body.bytes()).toBe(payload);
  });

  it('refuses one byte more than announced, and bytes after completion', () => {
    const over = new RequestBody(4, 3);
    expect(over.add(Buffer.from('abcd'))).toMatchObject({ ok: false });
    const done = new RequestBody(4, 2);
    expect(done.add(Buffer.from('ab'))).toEqual({ ok: true, complete: true });
    expect(done.add(Buffer.from('c'))).toMatchObject({ ok: false });
  });
});

describe('BodyIntake', () => {
  it('starts the request once, with the bytes, when the body is complete', () => {
    const intake = new BodyIntake();
    const started: Buffer[] = [];
    intake.opened(1);
    intake.expect(openOf(1), 4, (bytes) =>
      started.push(Buffer.concat(Buffer.isBuffer(bytes) ? [bytes] : [...bytes])),
    );
    expect(intake.receive(1, Buffer.from('ü'), true)).toBeUndefined();
    expect(started).toEqual([]);
    expect(intake.receive(1, Buffer.from('ab'), true)).toBeUndefined();
    expect(started.map((b) => b.toString())).toEqual(['üab']);
    // The body is complete: more of it is a breach of the stream.
    expect(intake.receive(1, Buffer.from('x'), true)).toMatchObject({ scope: 'stream' });
  });

  it('a stream never opened is a breach of the socket; one that ended is dropped quietly', () => {
    const intake = new BodyIntake();
    intake.opened(5);
    expect(intake.receive(6, Buffer.from('x'), false)).toMatchObject({ scope: 'socket' });
    expect(intake.receive(3, Buffer.from('x'), false)).toBeUndefined();
    intake.expect(openOf(5), 10, () => undefined);
    intake.drop(5);
    expect(intake.receive(5, Buffer.from('x'), false)).toBeUndefined();
  });

  it('too many bytes fail the stream and forget its body', () => {
    const intake = new BodyIntake();
    intake.opened(1);
    let started = false;
    intake.expect(openOf(1), 2, () => {
      started = true;
    });
    expect(intake.receive(1, Buffer.from('abc'), true)).toMatchObject({ scope: 'stream' });
    expect(started).toBe(false);
  });
});

describe('openBreach', () => {
  it('bodyBytes needs protocol 2 and excludes an inline body', () => {
    expect(openBreach({ ...open, body: {} }, 1)).toBeUndefined();
    expect(openBreach({ ...open, bodyBytes: 3 }, 2)).toBeUndefined();
    expect(openBreach({ ...open, bodyBytes: 3 }, 1)).toContain('protocol 1');
    expect(openBreach({ ...open, bodyBytes: 3, body: {} }, 2)).toContain('both');
  });

  it('rerouted needs a BODY-frame body and the model to write into it', () => {
    const rerouted = { ...open, rerouted: true as const };
    expect(openBreach({ ...rerouted, bodyBytes: 3, model: 'm' }, 2)).toBeUndefined();
    expect(openBreach({ ...rerouted, bodyBytes: 3 }, 2)).toContain('rerouted');
    expect(openBreach({ ...rerouted, model: 'm' }, 2)).toContain('rerouted');
    expect(openBreach({ ...rerouted, body: { model: 'x' }, model: 'm' }, 1)).toContain('rerouted');
  });
});

describe('a rerouted body', () => {
  const rerouted = (stream: number) => ({ ...openOf(stream), rerouted: true as const, model: 'gpt-5' });
  const joined = (body: Buffer | readonly Buffer[]) =>
    Buffer.concat(Buffer.isBuffer(body) ? [body] : [...body]);

  it('gets the routed model written in once complete, whatever the pieces; nothing else changes', () => {
    const intake = new BodyIntake();
    const bytes = Buffer.from(
      '{"model":"fast","messages":[{"role":"user","content":"日本語 🌍"}],"stream":true}',
    );
    const started: Buffer[] = [];
    intake.opened(1);
    intake.expect(rerouted(1), bytes.length, (body) => started.push(joined(body)));
    // Cut inside a multi-byte character: only the whole body is decoded.
    const cut = bytes.indexOf('🌍') + 2;
    expect(intake.receive(1, bytes.subarray(0, cut), true)).toBeUndefined();
    expect(started).toEqual([]);
    expect(intake.receive(1, bytes.subarray(cut), true)).toBeUndefined();
    expect(started.map((b) => JSON.parse(b.toString()))).toEqual([
      { ...JSON.parse(bytes.toString()), model: 'gpt-5' },
    ]);
  });

  it('that is not a JSON object (or too deep to encode again) fails its stream with a breach code', () => {
    // Parses, but JSON.stringify runs out of stack on it: refused, not thrown.
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    for (const text of ['[1,2]', '"model"', 'null', '{"model":', '\u0000\xff', deep]) {
      const intake = new BodyIntake();
      const bytes = Buffer.from(text);
      let started = false;
      intake.opened(3);
      intake.expect(rerouted(3), bytes.length, () => {
        started = true;
      });
      const breach = intake.receive(3, bytes, true);
      expect(breach).toMatchObject({ scope: 'stream', code: 'TUNNEL_ERR_ROUTED_BODY' });
      expect(breach?.reason).toContain('stream 3');
      expect(started).toBe(false);
    }
  });
});

/** The `open` encoder: v1 splices the consumer's bytes into the frame, v2 sends them as BODY frames. */
import {
  BODY_FRAME_BYTES,
  DataKind,
  decodeDataFrame,
  MAX_OPEN_FRAME_BYTES,
  parseRelayFrame,
} from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { encodeOpen, requestBytes, requestModel, tooLargeForAgent } from './open-encoder.js';

const base = {
  method: 'POST' as const,
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
};

describe('open encoder', () => {
  it('v1: the consumer bytes go into the frame as they are (spacing and key order kept)', () => {
    const bodyJson = Buffer.from(
      '{ "model" : "gpt-5",\n "messages": [{"role":"user","content":"日本語 🌍"}] }',
    );
    const encoded = encodeOpen(7, { ...base, body: JSON.parse(bodyJson.toString()), bodyJson }, 1);
    expect(encoded.body).toEqual([]);
    const control = Buffer.from(encoded.control);
    expect(control.includes(bodyJson)).toBe(true);
    const parsed = parseRelayFrame(control.toString('utf8'));
    expect(parsed.ok && parsed.frame).toMatchObject({ type: 'open', stream: 7, body: { model: 'gpt-5' } });
    expect(encoded.size).toBe(control.length);
  });

  it('v2: open names bodyBytes and model; the body follows in BODY frames of at most BODY_FRAME_BYTES, byte-exact', () => {
    const text = `{"model":"gpt-5","messages":[{"role":"user","content":"${'ü🌍'.repeat(BODY_FRAME_BYTES / 3)}"}]}`;
    const bodyJson = Buffer.from(text);
    const encoded = encodeOpen(3, { ...base, body: { model: 'gpt-5' }, bodyJson, model: 'gpt-5' }, 2);
    const parsed = parseRelayFrame(encoded.control.toString());
    expect(parsed.ok && parsed.frame).toEqual({
      type: 'open',
      stream: 3,
      ...base,
      bodyBytes: bodyJson.length,
      model: 'gpt-5',
    });
    expect(encoded.body.length).toBe(Math.ceil(bodyJson.length / BODY_FRAME_BYTES));
    const frames = encoded.body.map((frame) => decodeDataFrame(frame)!);
    for (const frame of frames) {
      expect(frame.kind).toBe(DataKind.BODY);
      expect(frame.stream).toBe(3);
      expect(frame.payload.length).toBeLessThanOrEqual(BODY_FRAME_BYTES);
    }
    expect(Buffer.concat(frames.map((f) => f.payload)).equals(bodyJson)).toBe(true);
  });

  it('v2 without a body: no bodyBytes, no frames', () => {
    const encoded = encodeOpen(1, { method: 'GET', path: '/v1/models', headers: {} }, 2);
    expect(JSON.parse(encoded.control.toString())).toEqual({
      type: 'open',
      stream: 1,
      method: 'GET',
      path: '/v1/models',
      headers: {},
    });
    expect(encoded.body).toEqual([]);
  });

  it('bytes that are not UTF-8 are sent as the relay read them (U+FFFD), never as invalid text', () => {
    const bodyJson = Buffer.concat([
      Buffer.from('{"model":"m","x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const bytes = requestBytes({ ...base, bodyJson })!;
    expect(bytes.toString('utf8')).toBe('{"model":"m","x":"\uFFFD\uFFFD"}');
    const value = { model: 'm', x: 'y' };
    expect(requestBytes({ ...base, body: value, bodyJson })!.toString()).toBe(JSON.stringify(value));
    expect(requestBytes({ ...base, body: value })!.toString()).toBe(JSON.stringify(value));
    expect(requestBytes({ ...base })).toBeUndefined();
  });

  it('takes the routed model from the request, bounded; never reads it back out of the body', () => {
    expect(requestModel({ ...base, model: 'a' })).toBe('a');
    expect(requestModel({ ...base, body: { model: 'b' } })).toBeUndefined();
    expect(requestModel({ ...base, model: '模'.repeat(1000) })!.length).toBeLessThanOrEqual(256);
  });

  it('leaves open.headers out for an agent that said it does not read them, in both revisions', () => {
    const request = { ...base, body: { model: 'gpt-5' }, model: 'gpt-5' };
    for (const protocol of [1, 2]) {
      const without = parseRelayFrame(
        encodeOpen(1, request, protocol, { openHeaders: false }).control.toString(),
      );
      expect(without.ok && without.frame).not.toHaveProperty('headers');
      expect(without.ok && without.frame).toMatchObject({ type: 'open', path: base.path });
      const withHeaders = parseRelayFrame(encodeOpen(1, request, protocol).control.toString());
      expect(withHeaders.ok && withHeaders.frame).toMatchObject({ headers: base.headers });
    }
  });

  describe('a rerouted model (an alias or a fallback names another than the body)', () => {
    const bodyJson = Buffer.from(
      '{ "model" : "fast",\n "messages": [{"role":"user","content":"日本語 🌍"}] }',
    );
    const request = {
      ...base,
      body: JSON.parse(bodyJson.toString()),
      bodyJson,
      model: 'gpt-5',
      rerouted: true,
    };
    const sent = (encoded: ReturnType<typeof encodeOpen>) =>
      Buffer.concat(encoded.body.map((frame) => decodeDataFrame(frame)!.payload));

    it('to an agent that writes it: the consumer bytes untouched, open.model and rerouted', () => {
      const encoded = encodeOpen(2, request, 2, { openHeaders: false, routedModel: true });
      const parsed = parseRelayFrame(encoded.control.toString());
      expect(parsed.ok && parsed.frame).toEqual({
        type: 'open',
        stream: 2,
        method: 'POST',
        path: base.path,
        bodyBytes: bodyJson.length,
        model: 'gpt-5',
        rerouted: true,
      });
      expect(sent(encoded).equals(bodyJson)).toBe(true);
    });

    it('to an older agent (no routedModel) or on protocol 1: the routed model written into the body', () => {
      for (const peer of [{}, { routedModel: false }]) {
        const encoded = encodeOpen(2, request, 2, peer);
        const parsed = parseRelayFrame(encoded.control.toString());
        expect(parsed.ok && parsed.frame).not.toHaveProperty('rerouted');
        expect(JSON.parse(sent(encoded).toString())).toEqual({ ...request.body, model: 'gpt-5' });
      }
      const v1 = parseRelayFrame(encodeOpen(2, request, 1, { routedModel: true }).control.toString());
      expect(v1.ok && v1.frame).toMatchObject({ body: { model: 'gpt-5', messages: request.body.messages } });
      expect(v1.ok && v1.frame).not.toHaveProperty('rerouted');
    });

    it('a body the relay encodes anyway (no consumer bytes) gets the model written in, not the flag', () => {
      const encoded = encodeOpen(2, { ...request, bodyJson: undefined }, 2, { routedModel: true });
      expect(JSON.parse(encoded.control.toString())).not.toHaveProperty('rerouted');
      expect(JSON.parse(sent(encoded).toString()).model).toBe('gpt-5');
    });

    it('asked and routed the same: no flag, the consumer bytes to every agent', () => {
      for (const peer of [{}, { routedModel: true }]) {
        const encoded = encodeOpen(2, { ...request, model: 'fast', rerouted: undefined }, 2, peer);
        expect(JSON.parse(encoded.control.toString())).not.toHaveProperty('rerouted');
        expect(sent(encoded).equals(bodyJson)).toBe(true);
      }
    });
  });

  it('a body past what an agent takes is too large in both revisions, and v2 builds no frames for it', () => {
    const bodyJson = Buffer.alloc(MAX_OPEN_FRAME_BYTES + 1, 0x61);
    const v2 = encodeOpen(1, { ...base, bodyJson }, 2);
    expect(tooLargeForAgent(v2)).toBe(true);
    expect(v2.body).toEqual([]);
    expect(tooLargeForAgent(encodeOpen(1, { ...base, bodyJson }, 1))).toBe(true);
    expect(tooLargeForAgent(encodeOpen(1, { ...base, bodyJson: Buffer.from('{}') }, 2))).toBe(false);
  });
});

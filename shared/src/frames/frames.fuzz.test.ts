/**
 * Property-based tests of the control-frame parsers, the first code that touches every text frame
 * a peer sends: they never throw, valid frames round-trip, and whatever they accept holds only
 * the schema's own fields. At least 10 000 generated or mutated inputs per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_OPEN_FRAME_BYTES } from '../version.js';
import {
  type AgentFrame,
  agentFrame,
  openFrame,
  type ParseResult,
  parseAgentFrame,
  parseRelayFrame,
  REASON_MAX_CHARS,
  type RelayFrame,
  relayFrame,
  streamErrorCode,
} from './index.js';

const numRuns = Math.max(10_000, Number(process.env.FUZZ_RUNS) || 0);

/** Strings of at most `max` UTF-16 units (a code point may take two), any code point. */
const text = (max: number, min = 0) =>
  fc
    .string({ unit: 'binary', minLength: min, maxLength: Math.floor(max / 2) })
    .filter((s) => s.length >= min);
const stream = fc.integer({ min: 1, max: 0xffff_ffff });
/** A head carries a final status; error frames may carry any HTTP status. */
const finalStatus = fc.integer({ min: 200, max: 599 });
const status = fc.integer({ min: 100, max: 599 });
// zod drops a `__proto__` key (the safe choice, tested below), so a round trip would not give it back.
const headers = fc.dictionary(
  text(40, 1).filter((k) => k !== '__proto__'),
  text(80),
  { maxKeys: 4 },
);

const hello = fc.record(
  {
    type: fc.constant('hello' as const),
    version: fc.integer(),
    clientId: text(128, 1),
    agentVersion: text(64),
    instanceId: text(64, 8),
    capabilities: fc.array(text(64), { maxLength: 4 }),
    models: fc.array(text(256, 1), { maxLength: 4 }),
    maxConcurrency: fc.integer({ min: 1, max: 1024 }),
    ready: fc.boolean(),
    readyReason: text(512),
    slots: fc.integer({ min: 0, max: 1024 }),
    protocols: fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 16 }),
  },
  { requiredKeys: ['type', 'version', 'agentVersion', 'capabilities', 'models', 'maxConcurrency', 'ready'] },
);
const head = fc.record({ type: fc.constant('head' as const), stream, status: finalStatus, headers });
const end = fc.record({ type: fc.constant('end' as const), stream }, { requiredKeys: ['type', 'stream'] });
const error = fc.record(
  {
    type: fc.constant('error' as const),
    stream,
    code: fc.constantFrom(...streamErrorCode.options),
    message: text(8192),
    status,
  },
  { requiredKeys: ['type', 'stream', 'code', 'message'] },
);
const models = fc.record({
  type: fc.constant('models' as const),
  models: fc.array(text(256, 1), { maxLength: 4 }),
});
const ready = fc.record(
  { type: fc.constant('ready' as const), ready: fc.boolean(), reason: text(512) },
  { requiredKeys: ['type', 'ready'] },
);
const health = fc.record(
  {
    type: fc.constant('health' as const),
    id: text(64, 1),
    bridge: fc.record(
      { ok: fc.boolean(), status: fc.integer(), latencyMs: fc.nat(), reason: text(512) },
      { requiredKeys: ['ok', 'latencyMs'] },
    ),
  },
  { requiredKeys: ['type', 'id'] },
);
const welcome = fc.record(
  {
    type: fc.constant('welcome' as const),
    sessionId: text(40),
    heartbeatMs: fc.integer({ min: 1, max: 2 ** 31 }),
    streamWindow: fc.integer({ min: 1, max: 2 ** 31 }),
    maxFrameBytes: fc.integer({ min: 1, max: 2 ** 31 }),
    relayId: text(64, 1),
    protocol: fc.integer({ min: 1, max: 255 }),
  },
  { requiredKeys: ['type', 'sessionId', 'heartbeatMs', 'streamWindow', 'maxFrameBytes'] },
);
const open = fc.record(
  {
    type: fc.constant('open' as const),
    stream,
    method: fc.constantFrom('GET' as const, 'POST' as const),
    path: text(2046).map((p) => `/${p}`),
    headers,
    body: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: ['type', 'stream', 'method', 'path', 'headers'] },
);
/** A protocol 2 open: the body's length and model instead of the body (model: any code point). */
const openV2 = fc.record(
  {
    type: fc.constant('open' as const),
    stream,
    method: fc.constantFrom('GET' as const, 'POST' as const),
    path: text(2046).map((p) => `/${p}`),
    headers,
    bodyBytes: fc.integer({ min: 1, max: MAX_OPEN_FRAME_BYTES }),
    model: text(256),
  },
  { requiredKeys: ['type', 'stream', 'method', 'path', 'headers'] },
);
const cancel = fc.record(
  { type: fc.constant('cancel' as const), stream, reason: text(512) },
  { requiredKeys: ['type', 'stream'] },
);
const credit = fc.record({
  type: fc.constant('credit' as const),
  stream,
  bytes: fc.integer({ min: 1, max: 0x7fff_ffff }),
});
const drain = fc.record(
  { type: fc.constant('drain' as const), reason: text(512) },
  { requiredKeys: ['type'] },
);

const updateResult = fc.record({
  type: fc.constant('update_result' as const),
  version: text(64, 1),
  outcome: fc.constantFrom('refused' as const, 'failed' as const),
  reason: text(512),
});
const validAgentFrame: fc.Arbitrary<AgentFrame> = fc.oneof(
  hello,
  head,
  end,
  error,
  models,
  ready,
  health,
  updateResult,
);
const validRelayFrame: fc.Arbitrary<RelayFrame> = fc.oneof(
  welcome,
  open,
  openV2,
  cancel,
  credit,
  drain,
  health,
);

/** Text mutations of a serialised frame: the bytes a broken or hostile peer might send instead. */
const textMutation = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ unit: 'binary', maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant('replace' as const),
    at: fc.nat(),
    text: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
  }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateText(source: string, mutations: TextMutation[]): string {
  let out = source;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.op === 'truncate') out = out.slice(0, at);
    else if (m.op === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else if (m.op === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else out = out.slice(0, at) + m.text + out.slice(at + m.text.length);
  }
  return out;
}

/** Field mutations: one field of a valid frame replaced by (or added as) an arbitrary JSON value. */
const fieldMutation = fc.record({
  field: fc.oneof(
    fc.constantFrom(
      'type',
      'stream',
      'status',
      'headers',
      'bytes',
      'models',
      'version',
      'code',
      'message',
      'body',
      'bodyBytes',
      'model',
      'protocols',
      'protocol',
    ),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'),
    fc.string({ maxLength: 8 }),
  ),
  value: fc.jsonValue({ maxDepth: 3 }),
});

function mutateField(frame: object, field: string, value: unknown): string {
  // JSON.parse creates "__proto__" as an own key, exactly as a frame off the wire would have it.
  const json = JSON.stringify(frame);
  const entry = `${JSON.stringify(field)}:${JSON.stringify(value)}`;
  return json === '{}' ? `{${entry}}` : `{${entry},${json.slice(1)}`;
}

/** Keys each frame type may carry; anything else in a parsed frame would be a schema leak. */
const allowedKeys = (schema: typeof agentFrame | typeof relayFrame, type: string): Set<string> => {
  const option = schema.options.find((o) => o.shape.type.value === type);
  return new Set(Object.keys(option?.shape ?? {}));
};

function checkAccepted<T extends { type: string }>(
  result: ParseResult<T>,
  schema: typeof agentFrame | typeof relayFrame,
): void {
  if (!result.ok) {
    expect(typeof result.reason).toBe('string');
    expect(result.reason.length).toBeGreaterThan(0);
    return;
  }
  const frame = result.frame as Record<string, unknown> & { type: string };
  expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
  const allowed = allowedKeys(schema, frame.type);
  for (const key of Object.keys(frame)) expect(allowed.has(key), `unexpected key ${key}`).toBe(true);
  if ('stream' in frame) {
    expect(Number.isInteger(frame.stream)).toBe(true);
    expect(frame.stream as number).toBeGreaterThanOrEqual(1);
    expect(frame.stream as number).toBeLessThanOrEqual(0xffff_ffff);
  }
  if ('headers' in frame) {
    const h = frame.headers as Record<string, unknown>;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    for (const value of Object.values(h)) expect(typeof value).toBe('string');
  }
}

const parsers = [
  ['parseAgentFrame', parseAgentFrame, agentFrame, validAgentFrame],
  ['parseRelayFrame', parseRelayFrame, relayFrame, validRelayFrame],
] as const;

describe.each(parsers)('%s (fuzz)', (_name, parse, schema, valid) => {
  const run = (text: string) => parse(text) as ParseResult<{ type: string }>;

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 4 })),
        (input) => {
          checkAccepted(run(input), schema);
        },
      ),
      { numRuns },
    );
  });

  it('valid frames round-trip unchanged', () => {
    fc.assert(
      fc.property(valid, (frame) => {
        const wire = JSON.stringify(frame);
        const result = run(wire);
        expect(result).toEqual({ ok: true, frame: JSON.parse(wire) });
      }),
      { numRuns },
    );
  });

  it('never throws on mutated valid frames, and accepts only what the schema allows', () => {
    fc.assert(
      fc.property(valid, fc.array(textMutation, { minLength: 1, maxLength: 4 }), (frame, mutations) => {
        checkAccepted(run(mutateText(JSON.stringify(frame), mutations)), schema);
      }),
      { numRuns },
    );
    fc.assert(
      fc.property(valid, fieldMutation, (frame, { field, value }) => {
        checkAccepted(run(mutateField(frame, field, value)), schema);
      }),
      { numRuns },
    );
  });

  it('bounds the reason whatever keys the peer chose (it reaches logs and close reasons)', () => {
    fc.assert(
      fc.property(
        // `__proto__` is no header: JSON.parse makes it an own key the record drops (see below).
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5000 }).filter((k) => k !== '__proto__'),
        (key) => {
          const result = run(JSON.stringify({ type: 'head', stream: 1, status: 200, headers: { [key]: 1 } }));
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.reason.length).toBeLessThanOrEqual(REASON_MAX_CHARS);
        },
      ),
      { numRuns: Math.ceil(numRuns / 10) },
    );
    const huge = run(
      JSON.stringify({ type: 'head', stream: 1, status: 200, headers: { ['é'.repeat(1e5)]: 1 } }),
    );
    expect(huge.ok ? 'accepted' : huge.reason.length).toBeLessThanOrEqual(REASON_MAX_CHARS);
  });

  it('a "__proto__" key pollutes nothing', () => {
    fc.assert(
      fc.property(valid, fc.jsonValue({ maxDepth: 2 }), (frame, value) => {
        checkAccepted(run(mutateField(frame, '__proto__', { polluted: value })), schema);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: Math.ceil(numRuns / 10) },
    );
  });
});

describe('protocol v2 fields (fuzz)', () => {
  it('holds v2 fields to their bounds: bodyBytes a whole count within MAX_OPEN_FRAME_BYTES, model ≤ 256 units, protocols ≤ 16', () => {
    const base = { type: 'open', stream: 1, method: 'POST', path: '/v1/chat/completions', headers: {} };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ max: 0 }),
          fc.integer({ min: MAX_OPEN_FRAME_BYTES + 1 }),
          fc.double({ noInteger: true }),
          fc.string(),
        ),
        (bodyBytes) => {
          expect(openFrame.safeParse({ ...base, bodyBytes }).success).toBe(false);
        },
      ),
      { numRuns: Math.ceil(numRuns / 10) },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 200, maxLength: 320 }), (model) => {
        // zod counts code points (a surrogate pair is one).
        expect(openFrame.safeParse({ ...base, model }).success).toBe([...model].length <= 256);
      }),
      { numRuns: Math.ceil(numRuns / 10) },
    );
    const hello = {
      type: 'hello',
      version: 1,
      agentVersion: 'x',
      capabilities: [],
      models: [],
      maxConcurrency: 1,
      ready: true,
    };
    expect(parseAgentFrame(JSON.stringify({ ...hello, protocols: Array(17).fill(2) })).ok).toBe(false);
    expect(parseAgentFrame(JSON.stringify({ ...hello, protocols: [0] })).ok).toBe(false);
    expect(parseAgentFrame(JSON.stringify({ ...hello, protocols: [1, 2] })).ok).toBe(true);
  });
});

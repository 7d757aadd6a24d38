/**
 * Property-based tests of the response-header allowlist: whatever headers a (hostile) agent puts
 * in `head`, the consumer gets only the relay's own headers and a content-type that Node accepts
 * and that carries no control character. At least 10 000 generated header sets per property.
 */
import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../test-support/fuzz.js';
import { consumerHeaders } from './response-headers.js';

const numRuns = fuzzRuns();

const RELAY_OWNED = new Set(['content-type', 'cache-control', 'x-accel-buffering', 'x-request-id']);
const DANGEROUS = [
  'set-cookie',
  'location',
  'connection',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'keep-alive',
  'access-control-allow-origin',
  'www-authenticate',
  'refresh',
  'link',
  'content-security-policy',
  'x-session-pin',
  'x-request-id',
  'retry-after',
  'cache-control',
];
const headerName = fc.oneof(
  fc.constantFrom(...DANGEROUS, 'content-type', 'Content-Type'),
  fc.string({ maxLength: 16 }),
);
const headerValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 48 }),
  fc.string({ unit: 'binary-ascii', maxLength: 48 }),
  fc.constantFrom(
    'text/event-stream',
    'text/event-stream\r\nset-cookie: a=1',
    'application/json\nx: y',
    'text/html\u0000',
    'text/event-stream; charset=utf-8',
  ),
);
const agentHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 8 });

describe('consumerHeaders (fuzz)', () => {
  it('passes only the relay-owned headers, with values Node accepts and no control characters', () => {
    fc.assert(
      fc.property(agentHeaders, fc.boolean(), (headers, stream) => {
        const out = consumerHeaders(headers, { stream, requestId: 'req_test' });
        for (const [name, value] of Object.entries(out)) {
          expect(RELAY_OWNED.has(name), `header ${name}`).toBe(true);
          expect(value).toMatch(/^[\t\x20-\x7e]*$/);
          expect(() => validateHeaderValue(name, value)).not.toThrow();
        }
        expect(out['x-request-id']).toBe('req_test');
        if (stream) {
          expect(out['content-type']).toMatch(/^text\/event-stream/);
          expect(out['cache-control']).toBe('no-cache');
        }
        // The agent's content-type passes only when clean; otherwise the relay's default stands.
        const offered = headers['content-type'];
        if (offered !== undefined && !/^[\t\x20-\x7e]*$/.test(offered)) {
          expect(out['content-type']).toBe(stream ? 'text/event-stream; charset=utf-8' : 'application/json');
        }
      }),
      { numRuns },
    );
  });

  it('the relay’s own headers (request id, extras) win over anything the agent sends', () => {
    fc.assert(
      fc.property(
        agentHeaders,
        fc.boolean(),
        fc.constantFrom('new', 'kept', 'repinned'),
        (headers, stream, pin) => {
          const out = consumerHeaders(
            { ...headers, 'x-request-id': 'forged', 'x-session-pin': 'forged' },
            { stream, requestId: 'req_real', extra: { 'x-session-pin': pin } },
          );
          expect(out['x-request-id']).toBe('req_real');
          expect(out['x-session-pin']).toBe(pin);
        },
      ),
      { numRuns },
    );
  });
});

describe('a long content-type', () => {
  it('is replaced by the relay’s own: a 20 KB head would overflow the consumer’s header limit', () => {
    const long = `text/event-stream; x=${'a'.repeat(20_000)}`;
    expect(consumerHeaders({ 'content-type': long }, { stream: true, requestId: 'r' })['content-type']).toBe(
      'text/event-stream; charset=utf-8',
    );
    expect(consumerHeaders({ 'content-type': long }, { stream: false, requestId: 'r' })['content-type']).toBe(
      'application/json',
    );
  });
});

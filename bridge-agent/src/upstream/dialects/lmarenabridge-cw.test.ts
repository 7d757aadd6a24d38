import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, recording, replay } from '../../test-support/replay.js';
import { DIALECTS } from './index.js';

const cw = DIALECTS['lmarenabridge-cw'];
const play = (name: string, piece?: number) => replay(cw, recording('cloudwaddie', name), piece);

type Failure = { code: string; status: number; scope: string; reason?: string };
/** The bridge itself failed (its reason code says how): another agent may serve. */
const bridge = (status: number, reason: string): Failure => ({
  code: 'upstream_unavailable',
  status,
  scope: 'bridge',
  reason,
});
/** The model failed on a working bridge. */
const model = (status: number): Failure => ({ code: 'upstream_error', status, scope: 'model' });
/** The request itself was refused: no other agent would take it either. */
const REJECTED: Failure = { code: 'upstream_rejected', status: 400, scope: 'request' };

/** Each recorded failure and what it must become: one row per fixture, streamed or not. */
const FAILURES: Record<string, Failure> = {
  '401-nonstream.txt': bridge(401, 'auth_token_expired'),
  '401-stream.txt': bridge(401, 'auth_token_expired'),
  'direct-401-stream.txt': bridge(401, 'auth_token_expired'),
  '403cf-nonstream.txt': bridge(403, 'cloudflare_challenge'),
  '403cf-stream.txt': bridge(403, 'arena_forbidden'),
  'direct-403cf-stream.txt': bridge(403, 'arena_forbidden'),
  '403recaptcha-nonstream.txt': bridge(403, 'recaptcha_failed'),
  '403recaptcha-stream.txt': bridge(403, 'recaptcha_failed'),
  'direct-403recaptcha-stream.txt': bridge(403, 'arena_forbidden'),
  '429-nonstream.txt': bridge(429, 'upstream_rate_limited'),
  '429-stream.txt': bridge(429, 'upstream_rate_limited'),
  '429noretryafter-stream.txt': bridge(429, 'upstream_rate_limited'),
  'direct-429-stream.txt': bridge(429, 'upstream_rate_limited'),
  '500-nonstream.txt': model(502),
  '500-stream.txt': model(502),
  'direct-500-stream.txt': model(502),
  'a3only-nonstream.txt': model(502),
  'a3only-stream.txt': model(502),
  'direct-a3only-stream.txt': model(502),
  'empty-nonstream.txt': model(502),
  'empty-stream.txt': model(502),
  'direct-empty-stream.txt': model(502),
  'direct-workerbusy-second-nonstream.txt': bridge(502, 'bridge_error'),
  'mintfail-nonstream.txt': bridge(503, 'recaptcha_mint_failed'),
  'wrongkey-nonstream.txt': bridge(401, 'bridge_auth_failed'),
  'wrongkey-stream.txt': bridge(401, 'bridge_auth_failed'),
  'models-wrongkey.txt': bridge(401, 'bridge_auth_failed'),
  'keyrpm-3.txt': bridge(429, 'upstream_rate_limited'),
  'toolong-nonstream.txt': REJECTED,
  'toolong-stream.txt': REJECTED,
  'badjson-nonstream.txt': REJECTED,
  'emptycontent-stream.txt': REJECTED,
  'missingmodel-nonstream.txt': REJECTED,
  'missingmessages-stream.txt': REJECTED,
  'unknownmodel-nonstream.txt': model(404),
  'unknownmodel-stream.txt': model(404),
  'degraded-anymodel-stream.txt': model(404),
  'stealthmodel-stream.txt': model(403),
};

/** Answers with content: each must reach the consumer whole, with its 200. */
const ANSWERS = [
  'text-stream.txt',
  'text-nonstream.txt',
  'finish-stream.txt',
  'reasoning-stream.txt',
  'reasoning-nonstream.txt',
  'image-stream.txt',
  'image-nonstream.txt',
  'search-stream.txt',
  'slow-stream.txt',
  'atlimit-stream.txt',
  'mintfail-stream.txt',
  'direct-text-stream.txt',
  'direct-reasoning-stream.txt',
  'followup-turn2-stream.txt',
  'nokey-nonstream.txt',
];

describe('lmarenabridge-cw against the recordings of CloudWaddie’s bridge', () => {
  it.each(Object.entries(FAILURES))('%s fails before any byte reaches the consumer', (name, expected) => {
    for (const piece of [undefined, 7]) {
      const outcome = play(name, piece);
      expect(outcome.head).toBeUndefined();
      expect(outcome.body).toBe('');
      expect(outcome.failure).toMatchObject(expected);
      expect(outcome.failure?.reason).toBe(expected.reason);
      expect(outcome.failure?.message.length).toBeGreaterThan(5);
    }
  });

  it.each(ANSWERS)('%s flows whole, keep-alives held back', (name) => {
    const rec = recording('cloudwaddie', name);
    for (const piece of [undefined, 1, 13]) {
      const outcome = replay(cw, rec, piece);
      expect(outcome.failure).toBeUndefined();
      expect(outcome).toMatchObject({ head: 200, ended: true });
      // Upstream keep-alives never go out ahead of content: the relay sends its own.
      expect(outcome.body).not.toMatch(/^: keep-alive/);
      expect(rec.body.toString('utf8').endsWith(outcome.body)).toBe(true);
      expect(outcome.body).toMatch(/"content"|"reasoning_content"/);
    }
  });

  it('keeps the mid-stream failure it cannot see as content that ends (the bridge shows no error)', () => {
    const outcome = play('midstream_a3-stream.txt');
    expect(outcome).toMatchObject({ head: 200, ended: true });
    expect(outcome.body).toContain('before error');
  });

  it('ends a stream with an error frame when an error event follows content', () => {
    const rec = recording('cloudwaddie', 'text-stream.txt');
    const error = recording('cloudwaddie', '429-stream.txt').body.toString('utf8');
    const body = rec.body.toString('utf8').replace('data: [DONE]\n\n', error.slice(error.indexOf('data: {')));
    const outcome = replay(cw, { ...rec, body: Buffer.from(body) }, 11);
    expect(outcome.head).toBe(200);
    expect(outcome.body).toContain('Hello');
    expect(outcome.failure).toMatchObject({ scope: 'bridge', reason: 'upstream_rate_limited' });
  });

  it('classifies every recorded failure the index lists (none passes as success)', () => {
    const names = readdirSync(join(FIXTURES, 'cloudwaddie')).filter(
      (name) => name.endsWith('.txt') && !/health|models|keyrpm-[12]|_debug|debugstream|hang/.test(name),
    );
    for (const name of names) {
      const outcome = play(name);
      // Every answer either carries content or is a failure: never a clean empty 200.
      if (outcome.failure === undefined)
        expect(outcome.body, name).toMatch(/"content": ?"[^"]|"reasoning_content"/);
    }
  });

  it('declares the recorded prompt limit and one worker', () => {
    expect(cw.promptLimitChars).toBe(113_567);
    expect(cw.concurrency).toBe(1);
    expect(cw.apiPrefix).toBe('/api/v1');
  });
});

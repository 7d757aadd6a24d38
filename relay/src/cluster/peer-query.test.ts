/**
 * PeerQuery on real Redis (REDIS_TEST_URL, default 127.0.0.1:6379) under a private prefix:
 * questions and answers between members, and every way an answer can be missing — nobody
 * listening, a listener that never answers (the bound), a failing handler, this relay closing.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerQuery } from './peer-query.js';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const opened: Redis[] = [];
const queries: PeerQuery[] = [];

afterEach(() => {
  for (const q of queries.splice(0)) q.close();
  for (const r of opened.splice(0)) r.disconnect();
});

function connection(): Redis {
  const redis = new Redis(REDIS_URL);
  opened.push(redis);
  return redis;
}

async function member(prefix: string, relayId: string, timeoutMs = 5_000): Promise<PeerQuery> {
  const query = new PeerQuery({ pub: connection(), sub: connection(), prefix, relayId, timeoutMs });
  queries.push(query);
  await query.start();
  return query;
}

const freshPrefix = () => `arena-test-${randomBytes(6).toString('hex')}:`;

describe('PeerQuery', () => {
  it('asks several members at once and gets each one’s answer, in order', async () => {
    const prefix = freshPrefix();
    const [a, b, c] = [
      await member(prefix, 'rly_a'),
      await member(prefix, 'rly_b'),
      await member(prefix, 'rly_c'),
    ];
    b.serve('echo', (args) => ({ from: 'b', args }));
    c.serve('echo', async (args) => ({ from: 'c', args }));
    const answers = await a.ask(['rly_b', 'rly_c'], 'echo', { text: 'héllo ✓' });
    expect(answers).toEqual([
      { relay: 'rly_b', ok: true, value: { from: 'b', args: { text: 'héllo ✓' } } },
      { relay: 'rly_c', ok: true, value: { from: 'c', args: { text: 'héllo ✓' } } },
    ]);
    // Both ways: b asks a.
    a.serve('echo', () => 'a');
    expect(await b.askOne('rly_a', 'echo')).toEqual({ relay: 'rly_a', ok: true, value: 'a' });
  });

  it('a relay nobody listens for is unreachable at once, not after the bound', async () => {
    const prefix = freshPrefix();
    // An hour's bound: only the "no listener" answer can end this ask.
    const a = await member(prefix, 'rly_a', 3_600_000);
    const answer = await a.askOne('rly_dead', 'echo');
    expect(answer).toMatchObject({ relay: 'rly_dead', ok: false, error: 'unreachable' });
  });

  it('a listener that never answers is a timeout within the bound; the others still answer', async () => {
    const prefix = freshPrefix();
    const a = await member(prefix, 'rly_a');
    const b = await member(prefix, 'rly_b');
    b.serve('echo', () => 'b');
    // Subscribed like a relay, but frozen: it never answers.
    const silent = connection();
    await silent.subscribe(`${prefix}cluster:query:rly_frozen`);
    const [late, fine] = await Promise.all([
      a.askOne('rly_frozen', 'echo', null, 150),
      a.askOne('rly_b', 'echo'),
    ]);
    expect(late).toEqual({
      relay: 'rly_frozen',
      ok: false,
      error: 'timeout',
      message: 'no answer within 150 ms',
    });
    expect(fine).toEqual({ relay: 'rly_b', ok: true, value: 'b' });
  });

  it('a failing handler and an unknown question come back as failed, with the message', async () => {
    const prefix = freshPrefix();
    const a = await member(prefix, 'rly_a');
    const b = await member(prefix, 'rly_b');
    b.serve('boom', () => {
      throw new Error(`nope ${'é'.repeat(1000)}`);
    });
    const failed = await a.askOne('rly_b', 'boom');
    expect(failed).toMatchObject({ relay: 'rly_b', ok: false, error: 'failed' });
    // The peer's message is cut before it can reach a response.
    expect(failed.ok === false && failed.message.length).toBeLessThanOrEqual(300);
    expect(failed.ok === false && failed.message.startsWith('nope é')).toBe(true);
    expect(await a.askOne('rly_b', 'no-such-kind')).toEqual({
      relay: 'rly_b',
      ok: false,
      error: 'failed',
      message: "unknown query 'no-such-kind'",
    });
  });

  it('ignores malformed messages and answers from a relay it did not ask', async () => {
    const prefix = freshPrefix();
    const a = await member(prefix, 'rly_a');
    const b = await member(prefix, 'rly_b');
    let release: (() => void) | undefined;
    b.serve('slow', () => new Promise((resolve) => (release = () => resolve('real'))));
    const pending = a.askOne('rly_b', 'slow');
    const pub = connection();
    const channel = `${prefix}cluster:query:rly_a`;
    await pub.publish(channel, 'not json {');
    await pub.publish(channel, JSON.stringify({ t: 'answer', id: 'x'.repeat(100), from: 'rly_b', ok: true }));
    // The id of a's first question is 1: an impostor answering it is not taken.
    await pub.publish(
      channel,
      JSON.stringify({ t: 'answer', id: '1', from: 'rly_evil', ok: true, value: 'fake' }),
    );
    await expect.poll(() => release).not.toBe(undefined);
    release!();
    expect(await pending).toEqual({ relay: 'rly_b', ok: true, value: 'real' });
  });

  it('closing resolves the questions still waiting as unreachable and refuses new ones', async () => {
    const prefix = freshPrefix();
    const a = await member(prefix, 'rly_a');
    const silent = connection();
    await silent.subscribe(`${prefix}cluster:query:rly_frozen`);
    const waiting = a.askOne('rly_frozen', 'echo');
    a.close();
    expect(await waiting).toMatchObject({ relay: 'rly_frozen', ok: false, error: 'unreachable' });
    expect(await a.askOne('rly_frozen', 'echo')).toMatchObject({ ok: false, error: 'unreachable' });
  });
});

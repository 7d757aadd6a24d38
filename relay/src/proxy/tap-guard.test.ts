/**
 * The guard at the data boundary: a response tap that throws (on the head, a payload, the end,
 * or while reporting a failure) ends its one request — the agent is cancelled, the consumer gets
 * an error — and nothing escapes the stream handlers, which run inside the socket's message
 * handler (a throw there would be an uncaught exception: the whole relay down).
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { RelayError } from '../errors/relay-error.js';
import { createBalancer } from '../routing/balancer.js';
import { Cooldown } from '../routing/cooldown.js';
import { Router } from '../routing/router.js';
import { StickyTable } from '../routing/sticky.js';
import { agent, FakeHub } from '../test-support/fake-agents.js';
import { FakeResponse } from '../test-support/fake-response.js';
import { fakeTimersInEachTest } from '../test-support/fake-timers.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { Exchange, type ResponseTap } from './exchange.js';
import type { RequestRecord } from './observer.js';
import { ExchangeRegistry } from './registry.js';

type Where = 'head' | 'write' | 'end';

/** A tap that passes bytes through and throws `thrown` at `where`. */
function throwingTap(where: Where, thrown: unknown, failToo = false): ResponseTap {
  return {
    head(res, status, headers) {
      if (where === 'head') throw thrown;
      res.writeHead(status, headers);
    },
    write(res, payload) {
      if (where === 'write') throw thrown;
      return res.write(payload);
    },
    end() {
      if (where === 'end') throw thrown;
      return undefined;
    },
    ...(failToo
      ? {
          fail() {
            throw new Error('the tap is broken through and through');
          },
        }
      : {}),
  };
}

async function serve(tap: ResponseTap, stream: boolean) {
  const a = agent('a');
  const hub = new FakeHub();
  hub.agents = [a];
  const router = new Router(hub as unknown as AgentHub, createBalancer('least_load'), {
    cooldown: new Cooldown({ threshold: 1, baseMs: 60_000 }),
    sticky: new StickyTable(),
  });
  const finished: RequestRecord[] = [];
  const res = new FakeResponse();
  const exchange = new Exchange(
    {
      logger: pino({ level: 'silent' }),
      router,
      observer: { finished: (record) => finished.push(record) },
      registry: new ExchangeRegistry(),
      retryAttempts: 3,
      requestTimeoutMs: 10_000,
      streamWindow: 1024,
      keepAliveMs: 0,
    },
    {
      requestId: 'req-1',
      keyId: 'key-1',
      model: 'gpt-5',
      stream,
      path: '/v1/chat/completions',
      body: { model: 'gpt-5' },
      pin: undefined,
      res: res.asResponse(),
      log: () => pino({ level: 'silent' }),
      tap,
    },
  );
  const run = exchange.run();
  await vi.advanceTimersByTimeAsync(0);
  const opened = a.opened[0]!;
  // As the socket delivers them: none after the relay cancelled the stream.
  const frames = () => {
    const { handlers } = opened;
    const steps = [
      () => handlers.onHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' }),
      () => handlers.onData(Buffer.from('data: {"part": 1}\n\n')),
      () => handlers.onData(Buffer.from('data: {"part": 2}\n\n')),
      () => handlers.onEnd(),
    ];
    for (const step of steps) if (opened.cancelled === undefined) step();
  };
  return { run, res, finished, opened, frames };
}

fakeTimersInEachTest();

describe('a response tap that throws', () => {
  for (const where of ['head', 'write', 'end'] as const) {
    it(`on ${where} (stream): the stream ends with an error event, the agent is cancelled, nothing escapes`, async () => {
      const { run, res, finished, opened, frames } = await serve(
        throwingTap(where, new TypeError('bug in a tap')),
        true,
      );
      expect(frames).not.toThrow();
      await expect(run).resolves.toBe('committed');
      expect(res.ended || res.destroyed).toBe(true);
      if (where === 'head') {
        // Nothing went out: a plain 500 error answer.
        expect(res.status).toBe(500);
        expect(JSON.parse(res.body)).toMatchObject({
          error: { code: 'internal_error', message: 'internal error' },
        });
      } else {
        // The head went out: the failure is told in the stream, without the bug's words.
        expect(res.body).toMatch(/data: \{"error":\{"message":"internal error".*"code":"internal_error"/);
        expect(res.body).not.toContain('bug in a tap');
      }
      if (where !== 'end') expect(opened.cancelled).toMatch(/could not pass the answer on/);
      expect(finished).toHaveLength(1);
      expect(finished[0]).toMatchObject({ outcome: 'internal_error' });
    });
  }

  it('a RelayError from a tap (an answer past a cap) reaches the consumer as it is', async () => {
    const tooLarge = new RelayError('upstream_error', "the bridge's answer is too large: test");
    const { run, res, finished, opened, frames } = await serve(throwingTap('write', tooLarge), true);
    expect(frames).not.toThrow();
    await run;
    expect(res.body).toMatch(/"message":"the bridge's answer is too large: test".*"code":"upstream_error"/);
    expect(opened.cancelled).toMatch(/too large/);
    expect(finished[0]).toMatchObject({ outcome: 'upstream_error' });
  });

  it('whose own fail throws too: the consumer connection is cut, the request still finishes', async () => {
    const { run, res, finished, opened, frames } = await serve(
      throwingTap('write', new Error('x'), true),
      false,
    );
    expect(frames).not.toThrow();
    await run;
    expect(res.destroyed).toBe(true);
    expect(opened.cancelled).toBeDefined();
    expect(finished).toHaveLength(1);
  });
});

/**
 * The Exchange as a state machine: a fake router and agents (test-support/fake-agents.ts), a fake
 * consumer response, vitest's fake timers for the request timeout. Retry before the first byte,
 * none after it, the timeout, the consumer leaving, and credit handed back as bytes leave.
 */
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ImageAnswer } from '../consumer/images/image-answer.js';
import { RelayError } from '../errors/relay-error.js';
import { createBalancer } from '../routing/balancer.js';
import { Cooldown } from '../routing/cooldown.js';
import { Router } from '../routing/router.js';
import { StickyTable, sessionPin } from '../routing/sticky.js';
import { agent, type FakeAgent, FakeHub } from '../test-support/fake-agents.js';
import { FakeResponse } from '../test-support/fake-response.js';
import { fakeTimersInEachTest } from '../test-support/fake-timers.js';
import { refusal } from '../test-support/refusal.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { Exchange, type ExchangeRequest, type ResponseTap } from './exchange.js';
import type { RequestRecord } from './observer.js';
import { ExchangeRegistry } from './registry.js';

function setup(options: {
  agents: FakeAgent[];
  retryAttempts?: number;
  timeoutMs?: number;
  sessionName?: string;
  tap?: ResponseTap;
  keepAliveMs?: number;
  admission?: ExchangeRequest['admission'];
  meter?: ExchangeRequest['meter'];
}) {
  const hub = new FakeHub();
  hub.agents = options.agents;
  const sticky = new StickyTable();
  const router = new Router(hub as unknown as AgentHub, createBalancer('least_load'), {
    cooldown: new Cooldown({ threshold: 1, baseMs: 60_000 }),
    sticky,
  });
  const finished: RequestRecord[] = [];
  const res = new FakeResponse();
  const registry = new ExchangeRegistry();
  const request: ExchangeRequest = {
    requestId: 'req-1',
    keyId: 'key-1',
    model: 'gpt-5',
    stream: true,
    path: '/v1/chat/completions',
    body: { model: 'gpt-5' },
    pin: options.sessionName ? sessionPin('key-1', options.sessionName) : undefined,
    res: res.asResponse(),
    log: () => pino({ level: 'silent' }),
    tap: options.tap,
    admission: options.admission,
    meter: options.meter,
  };
  const exchange = new Exchange(
    {
      logger: pino({ level: 'silent' }),
      router,
      observer: { finished: (record) => finished.push(record) },
      registry,
      retryAttempts: options.retryAttempts ?? 3,
      requestTimeoutMs: options.timeoutMs ?? 10_000,
      streamWindow: 1024,
      keepAliveMs: options.keepAliveMs ?? 0,
    },
    request,
  );
  return { exchange, res, finished, router, registry, sticky };
}

/** Lets the router's await and the attempt's promise settle. */
const settle = () => vi.advanceTimersByTimeAsync(0);

fakeTimersInEachTest();

describe('Exchange', () => {
  it('a failure before the first byte is retried on another agent; the consumer sees only the second', async () => {
    const a = agent('a');
    const b = agent('b');
    b.ready = false; // the first attempt can only go to a
    const { exchange, res, finished, router } = setup({ agents: [a, b] });
    const run = exchange.run();
    await settle();
    expect(a.opened).toHaveLength(1);
    b.ready = true;
    a.opened[0]!.handlers.onFailure({ code: 'upstream_unavailable', message: 'tab gone' });
    await settle();
    expect(b.opened).toHaveLength(1);
    const served = b.opened[0]!.handlers;
    served.onHead(200, { 'content-type': 'text/event-stream' });
    // A 200 head alone commits nothing (answer-guard.ts): its first event does.
    served.onData(Buffer.from('data: hi\n\n'));
    await expect(run).resolves.toBe('committed');
    served.onEnd();
    expect(res.status).toBe(200);
    expect(res.body).toBe('data: hi\n\n');
    expect(res.ended).toBe(true);
    expect(finished[0]).toMatchObject({ outcome: 'ok', attempts: 2, bytes: 10, agentId: 'b' });
    // The request log's view: both agents, the first with its failure, the second served.
    expect(finished[0]).toMatchObject({ modelAsked: 'gpt-5', modelServed: 'gpt-5' });
    const [first, second] = finished[0]!.tried;
    expect(first).toMatchObject({ agentId: 'a', model: 'gpt-5', code: 'upstream_unavailable' });
    expect(second).toMatchObject({ agentId: 'b', code: undefined });
    expect(first!.durationMs).toBeGreaterThanOrEqual(0);
    expect(second!.startMs).toBeGreaterThanOrEqual(first!.startMs + first!.durationMs!);
    // A bridge-wide fault counts against the agent (threshold 1 here); the one that served is fine.
    expect(router.cooldownState(a.agentKey)?.benched).toBe(true);
    expect(router.cooldownState(b.agentKey)).toBeUndefined();
  });

  it("owns the request's admission and meter: a failed agent's slot back at once, settled once with the answer's tokens", async () => {
    const a = agent('a');
    const b = agent('b');
    b.ready = false;
    const events: string[] = [];
    const admission = {
      clientGate: async (chosen: { id: string }) => {
        events.push(`gate ${chosen.id}`);
        return { admitted: true as const };
      },
      attemptFailed: (agentId: string) => events.push(`failed ${agentId}`),
      settle: (tokens: number) => events.push(`settle ${tokens}`),
    };
    const meter = {
      usage: (answered: boolean) => ({
        promptTokens: answered ? 5 : 0,
        completionTokens: answered ? 7 : 0,
        totalTokens: answered ? 12 : 0,
        estimated: true,
      }),
    };
    const { exchange, finished } = setup({ agents: [a, b], admission, meter });
    const run = exchange.run();
    await settle();
    b.ready = true;
    a.opened[0]!.handlers.onFailure({ code: 'upstream_unavailable', message: 'tab gone' });
    await settle();
    const served = b.opened[0]!.handlers;
    served.onHead(200, { 'content-type': 'text/event-stream' });
    served.onData(Buffer.from('data: hi\n\n'));
    await run;
    served.onEnd();
    expect(events).toEqual(['gate a', 'failed a', 'gate b', 'settle 12']);
    expect(finished[0]).toMatchObject({ result: 'ok', usage: { totalTokens: 12 } });
  });

  it('a request the bridge rejected is not retried: its own 4xx, and the agent is not benched', async () => {
    const a = agent('a');
    const b = agent('b');
    const { exchange, router } = setup({ agents: [a, b] });
    const run = refusal(exchange.run());
    await settle();
    const [first] = [...a.opened, ...b.opened];
    first!.handlers.onFailure({ code: 'upstream_rejected', status: 413, message: 'attachment too large' });
    const error = await run;
    expect(error).toBeInstanceOf(RelayError);
    expect(error.status).toBe(413);
    expect(a.opened.length + b.opened.length).toBe(1);
    expect(router.cooldownState(a.agentKey) ?? router.cooldownState(b.agentKey)).toBeUndefined();
  });

  it('after the first byte nothing is retried: the stream ends with an OpenAI error event', async () => {
    const a = agent('a');
    const b = agent('b');
    const { exchange, res, finished } = setup({ agents: [a, b] });
    const run = exchange.run();
    await settle();
    const [stream] = [...a.opened, ...b.opened];
    stream!.handlers.onHead(200, {});
    await run;
    stream!.handlers.onData(Buffer.from('data: {"part": 1}\n\n'));
    stream!.handlers.onFailure({ code: 'agent_gone', message: 'socket closed' });
    await settle();
    expect(a.opened.length + b.opened.length).toBe(1);
    expect(res.body).toMatch(/^data: \{"part": 1\}\n\ndata: \{"error":\{.*"code":"agent_unavailable"/s);
    expect(res.ended).toBe(true);
    expect(finished[0]).toMatchObject({ outcome: 'agent_unavailable' });
  });

  it('the request timeout cancels the stream; before the first byte it is a 504 error', async () => {
    const a = agent('a');
    const { exchange, finished } = setup({ agents: [a], timeoutMs: 5000 });
    const run = refusal(exchange.run());
    await settle();
    await vi.advanceTimersByTimeAsync(4999);
    expect(a.opened[0]!.cancelled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    const error = await run;
    expect(error.code).toBe('timeout');
    expect(error.status).toBe(504);
    expect(a.opened[0]!.cancelled).toBe('request timeout');
    expect(finished[0]).toMatchObject({ outcome: 'timeout', status: 504 });
  });

  it('a consumer that leaves cancels the agent stream and ends the exchange', async () => {
    const a = agent('a');
    const { exchange, res, finished, registry } = setup({ agents: [a] });
    const run = exchange.run();
    await settle();
    expect(registry.size).toBe(1);
    res.emit('close');
    await expect(run).resolves.toBe('aborted');
    expect(a.opened[0]!.cancelled).toBe('consumer disconnected');
    expect(finished[0]).toMatchObject({ outcome: 'consumer_disconnected' });
    expect(registry.size).toBe(0);
  });

  it('credit goes back as bytes leave, and waits while the consumer is slow', async () => {
    const a = agent('a');
    const { exchange, res } = setup({ agents: [a] });
    const run = exchange.run();
    await settle();
    const stream = a.opened[0]!;
    stream.handlers.onHead(200, {});
    await run;
    // Window 1024: credit is returned in quarters (256 bytes).
    stream.handlers.onData(Buffer.alloc(200));
    expect(stream.granted).toBe(0);
    stream.handlers.onData(Buffer.alloc(100));
    expect(stream.granted).toBe(300);
    res.full = true;
    stream.handlers.onData(Buffer.alloc(400));
    stream.handlers.onData(Buffer.alloc(400));
    expect(stream.granted).toBe(300);
    res.full = false;
    res.emit('drain');
    expect(stream.granted).toBe(1100);
  });

  it("the serving agent's head pins the session (x-session-pin) and a failure after it still benches", async () => {
    const a = agent('a');
    const { exchange, res, router, sticky } = setup({ agents: [a], sessionName: 'conv-1' });
    const run = exchange.run();
    await settle();
    const stream = a.opened[0]!;
    expect(sticky.get('key-1/conv-1')).toBeUndefined();
    stream.handlers.onHead(200, {});
    await run;
    expect(sticky.get('key-1/conv-1')).toBe(a.agentKey);
    expect(res.headers['x-session-pin']).toBe('new');
    expect(router.cooldownState(a.agentKey)).toBeUndefined();
    stream.handlers.onFailure({ code: 'upstream_unavailable', message: 'bridge crashed mid-answer' });
    expect(router.cooldownState(a.agentKey)).toMatchObject({ benched: true });
    expect(res.ended).toBe(true);
  });

  it('an image request whose agent fails after its head is retried: the image tap wrote nothing yet', async () => {
    const a = agent('a');
    const b = agent('b');
    b.ready = false;
    const tap = new ImageAnswer({ observe: () => {}, restart: () => {} });
    const { exchange, res, finished } = setup({ agents: [a, b], tap });
    const run = exchange.run();
    await settle();
    const first = a.opened[0]!.handlers;
    first.onHead(200, { 'content-type': 'application/json' });
    first.onData(Buffer.from('{"choices":[{"message":{"content":"![Image](https://a.test/bad'));
    b.ready = true;
    first.onFailure({ code: 'upstream_error', message: 'bridge crashed' });
    await settle();
    expect(res.destroyed).toBe(false);
    expect(b.opened).toHaveLength(1);
    const second = b.opened[0]!.handlers;
    second.onHead(200, { 'content-type': 'application/json' });
    second.onData(Buffer.from('{"choices":[{"message":{"content":"![Image](https://a.test/1.png)"}}]}'));
    second.onEnd();
    await expect(run).resolves.toBe('committed');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ data: [{ url: 'https://a.test/1.png' }] });
    expect(finished[0]).toMatchObject({ outcome: 'ok', attempts: 2, agentId: 'b' });
  });

  it('a 200 whose first event is an error (an old agent passing it on) is retried like any failure', async () => {
    const a = agent('a');
    const b = agent('b');
    b.ready = false;
    const { exchange, res, finished } = setup({ agents: [a, b] });
    const run = exchange.run();
    await settle();
    const first = a.opened[0]!;
    first.handlers.onHead(200, { 'content-type': 'text/event-stream' });
    first.handlers.onData(Buffer.from(': keep-alive\n\n'));
    // The bridge's keep-alive is not the first byte: nothing is out, its credit is back.
    expect(res.status).toBe(0);
    expect(first.granted).toBe(14);
    b.ready = true;
    first.handlers.onData(Buffer.from('data: {"error": {"message": "Too Many Requests", "code": 429}}\n\n'));
    expect(first.cancelled).toBeDefined();
    await settle();
    const served = b.opened[0]!.handlers;
    served.onHead(200, { 'content-type': 'text/event-stream' });
    served.onData(Buffer.from('data: {"choices": [{"delta": {"content": "hi"}}]}\n\n'));
    await expect(run).resolves.toBe('committed');
    served.onEnd();
    expect(res.body).toBe('data: {"choices": [{"delta": {"content": "hi"}}]}\n\n');
    expect(finished[0]).toMatchObject({ outcome: 'ok', attempts: 2, agentId: 'b' });
  });

  it('keep-alives: after an early 200 a failure before content is still retried, and the last one told in the stream', async () => {
    const a = agent('a');
    const b = agent('b');
    b.ready = false;
    const { exchange, res, finished } = setup({
      agents: [a, b],
      keepAliveMs: 15_000,
      retryAttempts: 1,
      timeoutMs: 120_000,
    });
    const run = exchange.run();
    await settle();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(res.status).toBe(200);
    expect(res.body).toBe(': keep-alive\n\n');
    // The first agent answers its head, then fails before any content: another agent is tried.
    a.opened[0]!.handlers.onHead(200, { 'content-type': 'text/event-stream' });
    b.ready = true;
    a.opened[0]!.handlers.onFailure({ code: 'upstream_unavailable', message: 'tab gone' });
    await settle();
    expect(b.opened).toHaveLength(1);
    // The second fails too: no attempt left, so the error goes into the open stream.
    b.opened[0]!.handlers.onFailure({ code: 'upstream_timeout', message: 'no first token' });
    await expect(run).resolves.toBe('committed');
    expect(res.body).toMatch(/^: keep-alive\n\ndata: \{"error":\{.*"code":"timeout"/);
    expect(res.ended).toBe(true);
    expect(finished[0]).toMatchObject({ outcome: 'timeout', attempts: 2, modelServed: undefined });
    expect(finished[0]!.tried.map((t) => [t.agentId, t.code])).toEqual([
      ['a', 'upstream_unavailable'],
      ['b', 'upstream_timeout'],
    ]);
  });
});

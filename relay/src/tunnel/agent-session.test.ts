/**
 * AgentSession's timers and its socket protocol, without sockets: a tiny fake stands in for the
 * WebSocket and vitest's fake timers drive the hello timeout, the heartbeat and health calls.
 */
import { EventEmitter } from 'node:events';
import {
  CloseCode,
  DataKind,
  decodeDataFrame,
  encodeDataFrame,
  type HelloFrame,
  PROTOCOL_VERSION,
  PROTOCOLS,
  parseRelayFrame,
  type RelayFrame,
} from '@arena-relay/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientRecord } from '../store/store.js';
import { AgentSession } from './agent-session.js';
import type { SessionSocket } from './session-options.js';
import type { StreamFailure, StreamHandlers } from './stream.js';

const HEARTBEAT_MS = 1_000;
const HELLO_TIMEOUT_MS = 5_000;

/** The parts of a ws WebSocket a session touches, recording what the session does with them. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly sent: { data: string | Buffer; binary: boolean }[] = [];
  pings = 0;
  terminated = false;
  closedWith: { code: number; reason: string } | undefined;

  send(data: string | Buffer, options: { binary: boolean }): void {
    this.sent.push({ data, binary: options.binary });
  }
  ping(): void {
    this.pings++;
  }
  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  /** Control frames sent, parsed. */
  frames(): RelayFrame[] {
    return this.sent
      .filter((m) => !m.binary)
      .map((m) => {
        const parsed = parseRelayFrame(m.data.toString());
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.frame;
      });
  }
  /** Something the agent sent. */
  receive(frame: object | Buffer): void {
    const binary = Buffer.isBuffer(frame);
    this.emit('message', binary ? frame : Buffer.from(JSON.stringify(frame)), binary);
  }
}

const client = { id: 'cl_1', name: 'test' } as ClientRecord;

function hello(extra: Partial<HelloFrame> = {}): HelloFrame {
  return {
    type: 'hello',
    version: PROTOCOL_VERSION,
    agentVersion: 'unit',
    capabilities: ['chat'],
    models: ['gpt-5'],
    maxConcurrency: 4,
    ready: true,
    ...extra,
  };
}

/** `ticking`: run the hub's heartbeat interval (off to watch the hello timer alone). */
function startSession(ticking = true) {
  const ws = new FakeSocket();
  const events = { ready: 0, closed: 0 };
  const session = new AgentSession(ws as unknown as SessionSocket, {
    sessionId: 'ses_1',
    relayId: 'relay-a',
    client,
    remoteAddress: '127.0.0.1',
    heartbeatMs: HEARTBEAT_MS,
    streamWindow: 1024,
    maxFrameBytes: 4096,
    helloTimeoutMs: HELLO_TIMEOUT_MS,
    logger: pino({ level: 'silent' }),
    onReady: () => events.ready++,
    onClose: () => events.closed++,
    onCapacity: () => undefined,
  });
  // What the hub does: one interval ticks every session.
  const hubTimer = ticking ? setInterval(() => session.heartbeat(Date.now()), HEARTBEAT_MS) : undefined;
  return { ws, session, events, stop: () => clearInterval(hubTimer) };
}

function recorder() {
  const seen = { heads: 0, data: [] as Buffer[], ended: 0, failures: [] as StreamFailure[] };
  const handlers: StreamHandlers = {
    onHead: () => seen.heads++,
    onData: (payload) => seen.data.push(Buffer.from(payload)),
    onEnd: () => seen.ended++,
    onFailure: (failure) => seen.failures.push(failure),
  };
  return { seen, handlers };
}

describe('AgentSession (fake socket, fake timers)', () => {
  let stop: () => void = () => undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    stop();
    vi.useRealTimers();
  });

  it('closes a socket that says no hello within the hello timeout (1002), not a moment before', () => {
    const s = startSession(false);
    stop = s.stop;
    vi.advanceTimersByTime(HELLO_TIMEOUT_MS - 1);
    expect(s.ws.closedWith).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(s.ws.closedWith).toEqual({ code: CloseCode.PROTOCOL_ERROR, reason: 'no hello received in time' });
    expect(s.session.closed).toBe(true);
    expect(s.events.closed).toBe(1);
    // A peer that ignores the close handshake is cut off a second later.
    vi.advanceTimersByTime(1_000);
    expect(s.ws.terminated).toBe(true);
  });

  it('a hello in time clears the hello timer and is welcomed', () => {
    const s = startSession(false);
    stop = s.stop;
    s.ws.receive(hello());
    vi.advanceTimersByTime(HELLO_TIMEOUT_MS * 2);
    expect(s.ws.closedWith).toBeUndefined();
    expect(s.events.ready).toBe(1);
    expect(s.ws.frames()[0]).toMatchObject({ type: 'welcome', sessionId: 'ses_1', relayId: 'relay-a' });
  });

  it('terminates an agent that missed two pings, and not one that answers', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    vi.advanceTimersByTime(HEARTBEAT_MS); // ping 1
    expect(s.ws.pings).toBe(1);
    vi.advanceTimersByTime(HEARTBEAT_MS); // ping 1 unanswered: ping 2
    expect(s.ws.pings).toBe(2);
    expect(s.ws.terminated).toBe(false);
    vi.advanceTimersByTime(HEARTBEAT_MS); // ping 2 unanswered too: dead
    expect(s.ws.terminated).toBe(true);
    expect(s.ws.closedWith?.code).toBe(CloseCode.HEARTBEAT);
    expect(s.session.closed).toBe(true);
  });

  it('a pong resets the count and measures the round trip', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    vi.advanceTimersByTime(HEARTBEAT_MS); // ping 1
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(7);
      s.ws.emit('pong');
      vi.advanceTimersByTime(HEARTBEAT_MS - 7); // the next ping
    }
    expect(s.ws.terminated).toBe(false);
    expect(s.ws.pings).toBe(11);
    expect(s.session.rttMs).toBe(7);
    expect(s.session.lastHeartbeatAt?.getTime()).toBe(Date.now() - (HEARTBEAT_MS - 7));
    // One missed ping is forgiven once the agent answers again.
    vi.advanceTimersByTime(HEARTBEAT_MS); // the last ping went unanswered
    s.ws.emit('pong');
    vi.advanceTimersByTime(HEARTBEAT_MS * 2); // answered, then one unanswered again
    expect(s.ws.terminated).toBe(false);
    vi.advanceTimersByTime(HEARTBEAT_MS); // two in a row
    expect(s.ws.terminated).toBe(true);
  });

  it('takes a new bridge dialect and prompt limit from a ready frame (another bridge after an outage)', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello({ dialect: 'lmarenabridge-v2' }));
    s.ws.receive({ type: 'ready', ready: true, dialect: 'lmarenabridge-cw', promptLimitChars: 113_567 });
    expect(s.session.hello).toMatchObject({ dialect: 'lmarenabridge-cw', promptLimitChars: 113_567 });
    s.ws.receive({ type: 'ready', ready: false, dialect: 'openai' });
    expect(s.session.hello?.promptLimitChars).toBeUndefined();
    // An older agent's ready frame says nothing about it: unchanged.
    s.ws.receive({ type: 'ready', ready: true });
    expect(s.session.hello?.dialect).toBe('openai');
  });

  it('any message counts as a sign of life between pings', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(HEARTBEAT_MS);
      s.ws.receive({ type: 'ready', ready: true });
    }
    expect(s.ws.terminated).toBe(false);
  });

  it('a health call times out to undefined; an answer in time resolves it; a close settles the rest', async () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    const late = s.session.health(500);
    const id = (s.ws.frames().at(-1) as { id: string }).id;
    vi.advanceTimersByTime(500);
    await expect(late).resolves.toBeUndefined();
    // The late answer finds no waiter: harmless.
    s.ws.receive({ type: 'health', id, bridge: { ok: true, latencyMs: 1 } });

    const answered = s.session.health(500);
    const id2 = (s.ws.frames().at(-1) as { id: string }).id;
    expect(id2).not.toBe(id);
    vi.advanceTimersByTime(499);
    s.ws.receive({ type: 'health', id: id2, bridge: { ok: true, latencyMs: 3 } });
    await expect(answered).resolves.toMatchObject({ id: id2, bridge: { ok: true, latencyMs: 3 } });

    const pending = s.session.health(60_000);
    s.ws.emit('close', 1006, Buffer.from(''));
    await expect(pending).resolves.toBeUndefined();
    await expect(s.session.health(1)).resolves.toBeUndefined();
  });

  it('speaks protocol 2 with an agent that offers it: open names the body length, BODY frames carry it', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello({ protocols: [...PROTOCOLS] }));
    expect(s.session.protocol).toBe(2);
    expect(s.ws.frames()[0]).toMatchObject({ type: 'welcome', protocol: 2 });
    const bodyJson = Buffer.from(
      JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'héllo 🌍' }] }),
    );
    const { handlers } = recorder();
    const body = JSON.parse(bodyJson.toString());
    s.session.open(
      { method: 'POST', path: '/v1/chat/completions', headers: {}, body, bodyJson, model: 'gpt-5' },
      handlers,
    );
    const open = s.ws.frames().at(-1)!;
    expect(open).toEqual({
      type: 'open',
      stream: 1,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      bodyBytes: bodyJson.length,
      model: 'gpt-5',
    });
    const binary = s.ws.sent.filter((m) => m.binary).map((m) => decodeDataFrame(m.data as Buffer)!);
    expect(binary.map((f) => [f.kind, f.stream])).toEqual([[DataKind.BODY, 1]]);
    expect(binary[0]!.payload.equals(bodyJson)).toBe(true);
  });

  it('sends no open.headers to an agent whose hello says it does not read them', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello({ protocols: [...PROTOCOLS], openHeaders: false }));
    const { handlers } = recorder();
    const request = {
      method: 'POST' as const,
      path: '/v1/chat/completions',
      headers: { a: 'b' },
      model: 'm',
    };
    s.session.open({ ...request, body: { model: 'm' } }, handlers);
    expect(s.ws.frames().at(-1)).toEqual({
      type: 'open',
      stream: 1,
      method: 'POST',
      path: request.path,
      bodyBytes: 13,
      model: 'm',
    });
  });

  it('gives a v1 agent (no protocols in hello) the body inline, as it always did', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    expect(s.session.protocol).toBe(1);
    expect(s.ws.frames()[0]).not.toHaveProperty('protocol');
    const body = { model: 'gpt-5', messages: [{ role: 'user', content: 'ünïcode' }] };
    const { handlers } = recorder();
    s.session.open(
      {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: {},
        body,
        bodyJson: Buffer.from(JSON.stringify(body)),
      },
      handlers,
    );
    expect(s.ws.frames().at(-1)).toMatchObject({ type: 'open', stream: 1, body });
    expect(s.ws.frames().at(-1)).not.toHaveProperty('bodyBytes');
    expect(s.ws.sent.some((m) => m.binary)).toBe(false);
  });

  it('checks the frames of a stream: data before head, overdrawn credit, and BODY frames from an agent break the protocol', () => {
    const cases: [string, (ws: FakeSocket) => void][] = [
      [
        'data before head on stream 1',
        (ws) => ws.receive(encodeDataFrame(DataKind.DATA, 1, Buffer.from('x'))),
      ],
      [
        'stream 1 exceeded its credit',
        (ws) => {
          ws.receive({ type: 'head', stream: 1, status: 200, headers: {} });
          ws.receive(encodeDataFrame(DataKind.DATA, 1, Buffer.alloc(1025)));
        },
      ],
      [
        'an agent may send only DATA frames',
        (ws) => ws.receive(encodeDataFrame(DataKind.BODY, 1, Buffer.from('x'))),
      ],
      [
        'data for stream 9, which was never opened',
        (ws) => ws.receive(encodeDataFrame(DataKind.DATA, 9, Buffer.from('x'))),
      ],
    ];
    for (const [reason, act] of cases) {
      const s = startSession();
      s.ws.receive(hello());
      const { seen, handlers } = recorder();
      s.session.open(
        { method: 'POST', path: '/v1/chat/completions', headers: {}, body: { model: 'm' } },
        handlers,
      );
      act(s.ws);
      s.stop();
      expect(s.ws.closedWith, reason).toEqual({ code: CloseCode.PROTOCOL_ERROR, reason });
      expect(seen.failures).toEqual([{ code: 'agent_gone', message: reason }]);
    }
  });

  it('relays head, data within credit and end; grants go out as credit frames', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello());
    const { seen, handlers } = recorder();
    const handle = s.session.open(
      { method: 'POST', path: '/v1/chat/completions', headers: {}, body: {} },
      handlers,
    );
    expect(s.session.inFlight).toBe(1);
    s.ws.receive({ type: 'head', stream: 1, status: 200, headers: {} });
    s.ws.receive(encodeDataFrame(DataKind.DATA, 1, Buffer.alloc(1024, 97)));
    handle.grant(10);
    expect(s.ws.frames().at(-1)).toEqual({ type: 'credit', stream: 1, bytes: 10 });
    s.ws.receive(encodeDataFrame(DataKind.DATA, 1, Buffer.alloc(10, 98)));
    s.ws.receive({ type: 'end', stream: 1 });
    expect(seen).toMatchObject({ heads: 1, ended: 1, failures: [] });
    expect(Buffer.concat(seen.data).length).toBe(1034);
    expect(s.session.inFlight).toBe(0);
    // Late frames of an ended stream are dropped, not a breach.
    s.ws.receive(encodeDataFrame(DataKind.DATA, 1, Buffer.from('late')));
    expect(s.ws.closedWith).toBeUndefined();
  });

  it('counts reservations and open streams against the slots (hello.slots, then capacity frames)', () => {
    const s = startSession();
    stop = s.stop;
    s.ws.receive(hello({ maxConcurrency: 4, slots: 2 }));
    expect(s.session.slots).toBe(2);
    s.session.reserve();
    expect(s.session.load).toBe(0.5);
    s.session.open(
      { method: 'POST', path: '/v1/chat/completions', headers: {}, body: {} },
      recorder().handlers,
    );
    // The open used the reservation: one stream, nothing promised.
    expect(s.session.load).toBe(0.5);
    s.session.reserve();
    expect(s.session.hasCapacity).toBe(false);
    s.session.release();
    expect(s.session.hasCapacity).toBe(true);
    s.ws.receive({ type: 'capacity', seq: 1, slots: 0 });
    expect(s.session.load).toBe(1);
    expect(s.ws.frames().at(-1)).toEqual({ type: 'capacity', seq: 1, slots: 0 });
  });
});

/**
 * A hostile agent for the process-level fuzz run. It holds a valid client token and, until the
 * deadline, sends the relay what a modified agent could: garbage and mutated frames, frames for
 * stream ids it was never given, more data than its credit, oversized messages, deep JSON, claims
 * to be another client, reconnect storms, and malformed upgrade requests. Nothing it does may
 * crash the relay or touch another agent's streams.
 */
import net from 'node:net';
import {
  AGENT_CONNECT_PATH,
  DataKind,
  encodeDataFrame,
  PROTOCOL_VERSION,
  parseRelayFrame,
  SUBPROTOCOL,
} from '@arena-relay/shared';
import { WebSocket } from 'ws';
import { type Counter, type Rng, sleep } from './fuzz-random.js';

export type FuzzAgentOptions = {
  relayUrl: string;
  /** A valid client token (of a client no honest agent uses). */
  token: string;
  /** Another client's id, for identity claims. */
  otherClientId: string;
  /** Model the hostile agent advertises; honest traffic never asks for it. */
  model: string;
  /** Loopback address the frame sessions dial from. */
  localAddress: string;
  /** Loopback address for malformed upgrades (its failed logins must not brake the sessions). */
  upgradeAddress: string;
  deadline: number;
  rng: Rng;
  counts: Counter;
  /** The relay's stream window and largest frame, in bytes. */
  window: number;
  maxFrameBytes: number;
};

const wsUrl = (relayUrl: string) => relayUrl.replace(/^http/, 'ws') + AGENT_CONNECT_PATH;

/** Runs until the deadline; resolves when every socket it opened is gone. */
export async function runFuzzAgent(o: FuzzAgentOptions): Promise<void> {
  while (Date.now() < o.deadline) {
    const action = o.rng.weighted({ session: 80, storm: 8, upgrade: 12 });
    if (action === 'session') await frameSession(o);
    else if (action === 'storm') await reconnectStorm(o);
    else await upgradeFuzz(o);
  }
}

type Session = {
  ws: WebSocket;
  /** Streams the relay opened on this socket and the agent has not finished. */
  opens: number[];
  closed: boolean;
  done: Promise<void>;
};

function dial(
  o: FuzzAgentOptions,
  localAddress: string,
  headers?: Record<string, string>,
): Promise<Session | undefined> {
  const ws = new WebSocket(wsUrl(o.relayUrl), SUBPROTOCOL, {
    headers: headers ?? { authorization: `Bearer ${o.token}` },
    localAddress,
    perMessageDeflate: false,
    maxPayload: 8 * 1024 * 1024,
    handshakeTimeout: 3000,
  });
  const session: Session = { ws, opens: [], closed: false, done: Promise.resolve() };
  session.done = new Promise((resolve) =>
    ws.on('close', () => {
      session.closed = true;
      resolve();
    }),
  );
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const parsed = parseRelayFrame(data.toString());
    if (parsed.ok && parsed.frame.type === 'open') session.opens.push(parsed.frame.stream);
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(session));
    ws.once('unexpected-response', (_req, res) => {
      o.counts.add(`refused upgrade ${res.statusCode}`);
      ws.terminate();
      resolve(undefined);
    });
    ws.on('error', () => resolve(undefined));
  });
}

function hello(o: FuzzAgentOptions, extra: Record<string, unknown> = {}) {
  return {
    type: 'hello',
    version: PROTOCOL_VERSION,
    agentVersion: 'fuzz',
    instanceId: `fuzz-${o.rng.int(0, 1e9)}`,
    capabilities: ['chat'],
    models: [o.model],
    maxConcurrency: 64,
    ready: true,
    ...extra,
  };
}

/** Content an agent could stream to trip the tool-call reader and the SSE line reader. */
const HOSTILE_CONTENT = [
  '<tool_call>',
  '</tool_call>',
  '<tool_',
  '{"name": "echo", "arguments": {"text": "hi"}}',
  '{"name": "echo", "arguments": ',
  '```json',
  ' '.repeat(2000),
  'data: [DONE]',
  '😀é',
];

/** Payloads of a hostile answer, about `size` bytes in all, cut anywhere (UTF-8 too). */
function hostileAnswer(rng: Rng, size: number): Buffer[] {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < size) {
    const part = rng.weighted({ event: 6, unended: 1, bytes: 1, mutated: 1 });
    const content = Array.from({ length: rng.int(1, 4) }, () => rng.pick(HOSTILE_CONTENT)).join('');
    const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const bytes =
      part === 'event'
        ? Buffer.from(event)
        : part === 'unended'
          ? Buffer.from(`data: ${'x'.repeat(rng.int(100, size))}`)
          : part === 'bytes'
            ? rng.bytes(rng.int(1, 256))
            : rng.mutate(event);
    parts.push(bytes);
    length += bytes.length;
  }
  const bytes = Buffer.concat(parts).subarray(0, size);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const next = Math.min(bytes.length, at + rng.int(1, 4096));
    out.push(bytes.subarray(at, next));
    at = next;
  }
  return out;
}

/** Valid frames of every kind an agent sends, to be mutated. */
function templates(o: FuzzAgentOptions, stream: number): object[] {
  return [
    hello(o),
    { type: 'head', stream, status: 200, headers: { 'content-type': 'text/event-stream' } },
    { type: 'end', stream, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
    { type: 'error', stream, code: 'upstream_error', message: 'fuzz', status: 502 },
    { type: 'models', models: [o.model] },
    { type: 'ready', ready: true },
    { type: 'health', id: 'h1', bridge: { ok: true, status: 200, latencyMs: 3 } },
  ];
}

/** Resolves once the session holds an open stream, or after `ms`. */
async function nextOpen(session: Session, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (session.opens.length === 0 && !session.closed && Date.now() < until) await sleep(5);
}

async function frameSession(o: FuzzAgentOptions): Promise<void> {
  const session = await dial(o, o.localAddress);
  if (!session) {
    await sleep(20);
    return;
  }
  const { rng, counts } = o;
  const send = (data: Buffer | string, binary: boolean) => {
    if (session.ws.readyState === WebSocket.OPEN) session.ws.send(data, { binary });
  };
  const sendJson = (frame: unknown) => send(JSON.stringify(frame), false);
  // Hello: mostly honest (the relay must get as far as streams), sometimes a lie.
  const opening = rng.weighted({ valid: 80, otherClient: 5, mutated: 8, none: 4, wrongVersion: 3 });
  counts.add(`hello: ${opening}`);
  if (opening === 'valid') sendJson(hello(o));
  else if (opening === 'otherClient') sendJson(hello(o, { clientId: o.otherClientId }));
  else if (opening === 'mutated') send(rng.mutate(JSON.stringify(hello(o))), false);
  else if (opening === 'wrongVersion') sendJson(hello(o, { version: rng.int(2, 1e6) }));
  const steps = rng.int(1, 30);
  for (let step = 0; step < steps && !session.closed && Date.now() < o.deadline; step++) {
    // Give the relay a moment to open streams on us, or to close the socket for what we sent;
    // often wait for an open, so that the stream-bound attacks get streams to attack.
    await Promise.race([session.done, rng.chance(0.4) ? nextOpen(session, 150) : sleep(rng.int(0, 8))]);
    if (session.closed) break;
    const open = session.opens[0];
    const foreign = rng.int(1, 2000);
    const kind = rng.weighted({
      'valid stream': open ? 10 : 0,
      'hostile answer': open ? 8 : 0,
      'credit overrun': open ? 6 : 0,
      'data before head': open ? 3 : 0,
      'second head': open ? 2 : 0,
      'foreign stream data': 8,
      'foreign stream control': 5,
      'garbage text': 6,
      'random binary': 6,
      'short binary': 2,
      'unknown data kind': 2,
      'stream 0 data': 2,
      'mutated control frame': 14,
      'field-mutated frame': 10,
      'random JSON value': 4,
      'deep JSON': 1,
      'oversized frame': 1,
      'second hello': 2,
      'models flood': 1,
      'ready toggle': 2,
      'unsolicited health': 2,
      ping: 2,
      'abrupt close': 2,
    });
    counts.add(kind);
    switch (kind) {
      case 'valid stream': {
        session.opens.shift();
        sendJson({
          type: 'head',
          stream: open,
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'set-cookie': 'a=b' },
        });
        send(encodeDataFrame(DataKind.DATA, open!, Buffer.from('data: {"fuzz": true}\n\n')), true);
        sendJson({ type: 'end', stream: open });
        break;
      }
      case 'hostile answer': {
        // Within credit, an answer no bridge writes: what the translating front-ends must survive.
        session.opens.shift();
        sendJson({
          type: 'head',
          stream: open,
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
        });
        let budget = o.window;
        for (const payload of hostileAnswer(o.rng, o.window)) {
          if (payload.length > budget) break;
          budget -= payload.length;
          send(encodeDataFrame(DataKind.DATA, open!, payload), true);
        }
        if (o.rng.chance(0.7)) sendJson({ type: 'end', stream: open });
        break;
      }
      case 'credit overrun': {
        session.opens.shift();
        sendJson({ type: 'head', stream: open, status: 200, headers: {} });
        const size = Math.min(o.maxFrameBytes - 5, o.window + rng.int(1, 4096));
        send(encodeDataFrame(DataKind.DATA, open!, Buffer.alloc(size, 0x61)), true);
        break;
      }
      case 'data before head':
        session.opens.shift();
        send(encodeDataFrame(DataKind.DATA, open!, rng.bytes(rng.int(1, 64))), true);
        break;
      case 'second head':
        sendJson({ type: 'head', stream: open, status: 200, headers: {} });
        sendJson({ type: 'head', stream: open, status: 200, headers: {} });
        break;
      case 'foreign stream data':
        send(encodeDataFrame(DataKind.DATA, foreign, rng.bytes(rng.int(0, 256))), true);
        break;
      case 'foreign stream control':
        sendJson(rng.pick(templates(o, foreign).slice(1, 4)));
        break;
      case 'garbage text':
        // Often invalid UTF-8: the relay's WebSocket layer must close (1007), not throw.
        send(rng.bytes(rng.int(0, 512)), false);
        break;
      case 'random binary':
        send(rng.bytes(rng.int(0, 2048)), true);
        break;
      case 'short binary':
        send(rng.bytes(rng.int(0, 4)), true);
        break;
      case 'unknown data kind': {
        const frame = encodeDataFrame(DataKind.DATA, open ?? foreign, rng.bytes(8));
        frame[0] = rng.int(2, 255);
        send(frame, true);
        break;
      }
      case 'stream 0 data':
        send(encodeDataFrame(DataKind.DATA, 0, rng.bytes(8)), true);
        break;
      case 'mutated control frame':
        send(rng.mutate(JSON.stringify(rng.pick(templates(o, open ?? foreign)))), false);
        break;
      case 'field-mutated frame': {
        const frame = { ...rng.pick(templates(o, open ?? foreign)) } as Record<string, unknown>;
        const field = rng.pick([
          'type',
          'stream',
          'status',
          'headers',
          'models',
          'code',
          'message',
          'usage',
          '__proto__',
        ]);
        const value = rng.pick<unknown>([
          null,
          -1,
          0,
          2 ** 53,
          1e308,
          'x'.repeat(rng.int(0, 10_000)),
          [],
          {},
          { 'content-type': 'text/html\r\nset-cookie: a=1' },
          rng.text(16, true),
          true,
        ]);
        send(`{${JSON.stringify(field)}:${JSON.stringify(value)},${JSON.stringify(frame).slice(1)}`, false);
        break;
      }
      case 'random JSON value':
        sendJson(
          rng.pick<unknown>([null, 1, 'x', [], {}, [1, [2, [3]]], { type: 'hello' }, { type: rng.text(8) }]),
        );
        break;
      case 'deep JSON': {
        const depth = rng.int(10_000, 300_000);
        send(`${'['.repeat(depth)}${']'.repeat(depth)}`, false);
        break;
      }
      case 'oversized frame':
        send(Buffer.alloc(o.maxFrameBytes + rng.int(1, 256 * 1024), 0x20), rng.chance(0.5));
        break;
      case 'second hello':
        sendJson(hello(o));
        break;
      case 'models flood':
        sendJson({
          type: 'models',
          models: Array.from({ length: 2048 }, (_, i) => `${o.model}-${i}-${'m'.repeat(200)}`),
        });
        break;
      case 'ready toggle':
        sendJson({ type: 'ready', ready: rng.chance(0.5), reason: rng.text(rng.int(0, 600)) });
        break;
      case 'unsolicited health':
        sendJson({ type: 'health', id: rng.text(rng.int(1, 64)), bridge: { ok: true, latencyMs: 1 } });
        break;
      case 'ping':
        if (session.ws.readyState === WebSocket.OPEN) session.ws.ping(rng.bytes(rng.int(0, 125)));
        break;
      case 'abrupt close':
        session.ws.terminate();
        break;
    }
  }
  if (!session.closed) {
    if (rng.chance(0.5)) session.ws.terminate();
    else session.ws.close(rng.pick([1000, 1001, 4000, 4999]), rng.text(rng.int(0, 100)));
  }
  await Promise.race([session.done, sleep(1500)]);
  if (!session.closed) session.ws.terminate();
}

/** Many sockets at once, hello'd or not, dropped at once or after welcome. */
async function reconnectStorm(o: FuzzAgentOptions): Promise<void> {
  const size = o.rng.int(5, 20);
  const sameInstance = `fuzz-storm-${o.rng.int(0, 1e9)}`;
  o.counts.add('reconnect storm socket', size);
  await Promise.all(
    Array.from({ length: size }, async () => {
      const session = await dial(o, o.localAddress);
      if (!session) return;
      if (o.rng.chance(0.7))
        session.ws.send(JSON.stringify(hello(o, o.rng.chance(0.5) ? { instanceId: sameInstance } : {})));
      await sleep(o.rng.int(0, 30));
      session.ws.terminate();
      await session.done;
    }),
  );
}

/** A malformed or unauthorised upgrade request on a raw TCP socket. */
async function upgradeFuzz(o: FuzzAgentOptions): Promise<void> {
  const { rng } = o;
  const url = new URL(o.relayUrl);
  const variant = rng.weighted({
    'upgrade: no token': 3,
    'upgrade: wrong token': 3,
    'upgrade: wrong subprotocol': 2,
    'upgrade: bad path': 2,
    'upgrade: no websocket key': 2,
    'upgrade: huge header': 1,
    'upgrade: garbage': 2,
  });
  o.counts.add(variant);
  const lines = [
    `GET ${variant === 'upgrade: bad path' ? `/${rng.text(rng.int(0, 40))}` : AGENT_CONNECT_PATH} HTTP/1.1`,
    `Host: ${url.host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
  ];
  if (variant !== 'upgrade: no websocket key') lines.push('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  lines.push(
    `Sec-WebSocket-Protocol: ${variant === 'upgrade: wrong subprotocol' ? 'other.v9' : SUBPROTOCOL}`,
  );
  if (variant === 'upgrade: wrong token') lines.push(`Authorization: Bearer art_${rng.text(40)}`);
  else if (variant !== 'upgrade: no token') lines.push(`Authorization: Bearer ${o.token}`);
  if (variant === 'upgrade: huge header') lines.push(`X-Fuzz: ${'a'.repeat(rng.int(16 * 1024, 80 * 1024))}`);
  const request =
    variant === 'upgrade: garbage'
      ? rng.mutate(`${lines.join('\r\n')}\r\n\r\n`)
      : Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
  await new Promise<void>((resolve) => {
    const socket = net.connect({
      host: url.hostname,
      port: Number(url.port),
      localAddress: o.upgradeAddress,
    });
    const timer = setTimeout(() => socket.destroy(), 1500);
    socket.on('connect', () => socket.write(request));
    // A successful upgrade (the valid variants) is dropped at once: only the handshake is fuzzed.
    socket.on('data', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

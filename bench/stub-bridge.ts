/**
 * A cheap stub LMArenaBridge for the paced-load scenario (bench/scenarios/lmarena-load.ts):
 *   node --import tsx bench/stub-bridge.ts [--chunks N] [--delay-ms N] [--port P]
 * `--chunks`: events per answer, and the most a request's `max_tokens` may ask for.
 * Prints `{"url":"http://127.0.0.1:<port>"}` once listening; SIGTERM closes it.
 *
 * The test suite's fake bridge (scripts/fake-bridge.ts) spends ~90 µs per chunk (node:http, a
 * timer and a new string per chunk); at 10 000 chunks a second it would take half the box from
 * what it measures. This one speaks just enough HTTP/1.1 over raw sockets, builds a stream's
 * events once when it starts (chunked framing included), and paces every stream from one 5 ms
 * tick: stream k is in slot k mod (delay / 5 ms), and a tick writes the next event of each stream
 * in its slot, so a chunk costs one `socket.write` of a ready Buffer. It answers what the agent
 * asks of LMArenaBridge: `GET /v1/models`, the serve probe (a non-object body: a plain-text 500)
 * and `POST /v1/chat/completions` streamed (SSE) or whole.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const TICK_MS = 5;
/** Longest request head or body read (the bench sends small ones). */
const MAX_REQUEST_BYTES = 64 * 1024;
/**
 * ~40 bytes of answer text per event, as a model at LMArena's pace sends a few tokens at a time;
 * some multi-byte and escaped text so metering sees what real answers hold.
 */
const PIECES = [
  ' The relay keeps the stream open while the',
  ' agent forwards each piece as it arrives; ',
  'latency between tokens is what users feel.',
  ' 你好，世界 — “quoted” text and a tab\there.',
  ' Numbers: 3.14159, 2.71828, 1.41421 ok.\n',
  ' Another sentence, short and plain, ends.',
];

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    chunks: { type: 'string', default: '400' },
    'delay-ms': { type: 'string', default: '50' },
  },
});
const CHUNKS = Number(values.chunks);
const SLOTS = Math.max(1, Math.round(Number(values['delay-ms']) / TICK_MS));

/** One HTTP/1.1 chunk of the chunked body: size line, data, CRLF. */
const framed = (text: string): Buffer => {
  const data = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
};
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

function head(status: number, type: string, extra = ''): string {
  const reason = status === 200 ? 'OK' : status === 404 ? 'Not Found' : 'Internal Server Error';
  return `HTTP/1.1 ${status} ${reason}\r\nserver: uvicorn\r\ncontent-type: ${type}\r\n${extra}`;
}

function sendWhole(socket: Socket, status: number, type: string, body: string, close: boolean): void {
  const bytes = Buffer.byteLength(body);
  socket.write(
    `${head(status, type, `content-length: ${bytes}\r\n${close ? 'connection: close\r\n' : ''}`)}\r\n${body}`,
  );
  // A kept-alive connection serves the next request too (undici reuses a probe's for a chat).
  if (close) socket.end();
  else serve(socket);
}

/** A streamed answer: its events, framed once, how far it got and how many content events it has. */
type Stream = {
  socket: Socket;
  events: Buffer[];
  next: number;
  chunks: number;
  close: boolean;
  slot: number;
};

const slots: Array<Set<Stream>> = Array.from({ length: SLOTS }, () => new Set());
let nextSlot = 0;
/** The stream a socket is answering, so that a socket that closes leaves its slot. */
const streaming = new WeakMap<Socket, Stream>();

function startStream(socket: Socket, model: string, chunks: number, close: boolean): Stream {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const prefix = `data: {"id": "${id}", "object": "chat.completion.chunk", "created": ${created}, "model": ${JSON.stringify(model)}, "choices": [{"index": 0, "delta": `;
  const events = PIECES.map((p) =>
    framed(`${prefix}{"content": ${JSON.stringify(p)}}, "finish_reason": null}]}\n\n`),
  );
  events.push(
    Buffer.concat([framed(`${prefix}{}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n`), LAST_CHUNK]),
  );
  socket.write(
    `${head(200, 'text/event-stream; charset=utf-8', `transfer-encoding: chunked\r\n${close ? 'connection: close\r\n' : ''}`)}\r\n`,
  );
  const stream: Stream = { socket, events, next: 0, chunks, close, slot: nextSlot };
  nextSlot = (nextSlot + 1) % SLOTS;
  slots[stream.slot]!.add(stream);
  streaming.set(socket, stream);
  return stream;
}

/** Writes the next event of every stream in the slot; ends those that are done. */
function serveSlot(slot: Set<Stream>): void {
  for (const s of slot) {
    const n = s.next++;
    if (n < s.chunks) {
      s.socket.write(s.events[n % PIECES.length]!);
      continue;
    }
    s.socket.write(s.events[PIECES.length]!);
    slot.delete(s);
    streaming.delete(s.socket);
    if (s.close) s.socket.end();
    else serve(s.socket);
  }
}

let lastTick = Math.floor(performance.now() / TICK_MS);
setInterval(() => {
  // A late tick serves every slot it skipped, so a stream's pace does not drift with the timer.
  const now = Math.floor(performance.now() / TICK_MS);
  for (let t = Math.max(lastTick + 1, now - SLOTS + 1); t <= now; t++) serveSlot(slots[t % SLOTS]!);
  lastTick = now;
}, TICK_MS);

function answer(socket: Socket, method: string, path: string, close: boolean, body: Buffer): void {
  if (method === 'GET' && path === '/v1/models') {
    const data = ['gpt-5', 'claude-opus-4'].map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'LMArenaBridge',
    }));
    return sendWhole(socket, 200, 'application/json', JSON.stringify({ object: 'list', data }), close);
  }
  if (method !== 'POST' || path !== '/v1/chat/completions')
    return sendWhole(socket, 404, 'application/json', '{"detail":"Not Found"}', close);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return sendWhole(socket, 500, 'text/plain; charset=utf-8', 'Internal Server Error', close);
  const { model, stream, max_tokens } = parsed as { model?: unknown; stream?: unknown; max_tokens?: unknown };
  const name = typeof model === 'string' ? model : 'default_model';
  if (stream) {
    // `max_tokens` sets the answer's length in events (a warm-up asks for a short one).
    const chunks =
      typeof max_tokens === 'number' &&
      Number.isSafeInteger(max_tokens) &&
      max_tokens > 0 &&
      max_tokens <= CHUNKS
        ? max_tokens
        : CHUNKS;
    startStream(socket, name, chunks, close);
    return;
  }
  const content = PIECES.join('');
  const whole = {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: name,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  };
  sendWhole(socket, 200, 'application/json', JSON.stringify(whole), close);
}

/** Reads one request from `socket` (head, then `content-length` bytes of body) and answers it. */
function serve(socket: Socket): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onData = (data: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, data]) : data;
    if (buffered.length > MAX_REQUEST_BYTES) return void socket.destroy();
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const lines = buffered.toString('latin1', 0, end).split('\r\n');
    const [method = '', target = ''] = lines[0]!.split(' ');
    let length = 0;
    let close = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value) || 0;
      if (name === 'connection' && value.toLowerCase() === 'close') close = true;
    }
    if (buffered.length < end + 4 + length) return;
    socket.off('data', onData);
    answer(socket, method, target.split('?')[0]!, close, buffered.subarray(end + 4, end + 4 + length));
  };
  socket.on('data', onData);
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.on('close', () => {
    const stream = streaming.get(socket);
    if (stream) slots[stream.slot]!.delete(stream);
  });
  serve(socket);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));

/**
 * A hostile consumer for the process-level fuzz run, on raw TCP so that nothing between it and
 * the relay cleans its bytes up: random, mutated and oversized bodies, lying or doubled
 * content-length, chunked bodies, header smuggling attempts, random X-Session-Name bytes, slow
 * drips (headers and bodies), pipelining, abrupt disconnects mid-stream, bad credentials. Every
 * input is bounded in time; a few run at once.
 */
import net from 'node:net';
import { type Counter, type Rng, sleep } from './fuzz-random.js';

export type FuzzConsumerOptions = {
  relayUrl: string;
  /** A valid API key (its own: the well-behaved consumer's key is never used here). */
  key: string;
  /** The model only the hostile agent serves, and the one the healthy agent serves. */
  fuzzModel: string;
  goodModel: string;
  /** Loopback address for requests with a valid key, and one for bad credentials. */
  localAddress: string;
  badAuthAddress: string;
  maxBodyBytes: number;
  deadline: number;
  rng: Rng;
  counts: Counter;
  /** HTTP statuses the relay answered, for the report. */
  statuses: Counter;
  /** Inputs in flight at once (default 4). */
  concurrency?: number;
};

/** Runs until the deadline; resolves once every input has settled. */
export async function runFuzzConsumer(o: FuzzConsumerOptions): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 4;
  while (Date.now() < o.deadline) {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const task = oneInput(o).catch(() => undefined);
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    // Pace a little: responses are read while inputs keep coming, and the storm leaves some CPU
    // to whatever else the test run has going (2 cores).
    await sleep(1);
  }
  await Promise.all(inFlight);
}

type Piece = Buffer | { waitMs: number };

type Exchange = {
  /** What to send: bytes, with pauses in between (slow drips). */
  pieces: Piece[];
  from: string;
  /** Drop the connection this long after the first response byte (abrupt disconnect). */
  dropAfterFirstByteMs?: number;
  /** Drop the connection this long after sending, answered or not. */
  dropAfterMs?: number;
  timeoutMs?: number;
};

/**
 * Sends an exchange on a fresh socket; resolves with the status of the first response, if any,
 * once that response is complete (or the socket closes, or the exchange's time is up).
 */
function rawExchange(o: FuzzConsumerOptions, exchange: Exchange): Promise<number | undefined> {
  const url = new URL(o.relayUrl);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: exchange.from });
    let received = Buffer.alloc(0);
    let status: number | undefined;
    let dropping = false;
    const timer = setTimeout(() => socket.destroy(), exchange.timeoutMs ?? 3000);
    socket.on('connect', async () => {
      for (const piece of exchange.pieces) {
        if (socket.destroyed) return;
        if (Buffer.isBuffer(piece)) socket.write(piece);
        else await sleep(piece.waitMs);
      }
      if (exchange.dropAfterMs !== undefined) setTimeout(() => socket.destroy(), exchange.dropAfterMs);
    });
    socket.on('data', (chunk: Buffer) => {
      if (exchange.dropAfterFirstByteMs !== undefined && !dropping) {
        dropping = true;
        setTimeout(() => socket.destroy(), exchange.dropAfterFirstByteMs);
      }
      // Keep only what is needed to see the first final response end.
      if (received.length < 256 * 1024) received = Buffer.concat([received, chunk]);
      if (responseComplete(received, (s) => (status ??= s))) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      o.statuses.add(status === undefined ? 'no answer' : String(status));
      resolve(status);
    });
  });
}

/** True once `bytes` hold a whole final response (1xx interim answers are skipped). */
function responseComplete(bytes: Buffer, onStatus: (status: number) => void): boolean {
  let offset = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return false;
    const head = bytes.toString('latin1', offset, headEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!Number.isFinite(status)) return true;
    const bodyStart = headEnd + 4;
    if (status < 200) {
      offset = bodyStart;
      continue;
    }
    onStatus(status);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) return bytes.length - bodyStart >= Number(length[1]);
    if (/\r\ntransfer-encoding: *chunked/i.test(head))
      return bytes.subarray(bodyStart - 2).includes('\r\n0\r\n\r\n');
    return false;
  }
}

const CRLF = '\r\n';

/** A request as bytes; headers are raw `name: value` lines (anything goes). */
function request(method: string, path: string, headerLines: string[], body?: Buffer | string): Buffer {
  const head = `${method} ${path} HTTP/1.1${CRLF}${headerLines.join(CRLF)}${CRLF}${CRLF}`;
  return body === undefined
    ? Buffer.from(head, 'latin1')
    : Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}

function chatBody(model: string, stream: boolean, rng: Rng): string {
  return JSON.stringify({
    model,
    stream,
    messages: [{ role: 'user', content: `fuzz ${rng.text(rng.int(0, 40), true)}` }],
  });
}

const echoTool = {
  type: 'function',
  function: { name: 'echo', parameters: { type: 'object', properties: { text: { type: 'string' } } } },
};

/** A request for `api` (its path and body), so the relay translates the hostile agent's answer. */
function frontEndBody(api: string, model: string, stream: boolean, rng: Rng): [string, string] {
  const content = `fuzz ${rng.text(rng.int(0, 40), true)}`;
  switch (api) {
    case 'chat with tools':
      return [
        '/v1/chat/completions',
        JSON.stringify({ model, stream, tools: [echoTool], messages: [{ role: 'user', content }] }),
      ];
    case 'messages':
      return [
        '/v1/messages',
        JSON.stringify({ model, stream, max_tokens: 64, messages: [{ role: 'user', content }] }),
      ];
    case 'responses':
      return [
        '/v1/responses',
        JSON.stringify({
          model,
          stream,
          input: content,
          tools: [{ type: 'function', name: 'echo', parameters: echoTool.function.parameters }],
        }),
      ];
    default:
      return ['/v1/chat/completions', chatBody(model, stream, rng)];
  }
}

async function oneInput(o: FuzzConsumerOptions): Promise<void> {
  const { rng, counts } = o;
  const host = `Host: ${new URL(o.relayUrl).host}`;
  const auth = `Authorization: Bearer ${o.key}`;
  const json = 'Content-Type: application/json';
  const post = (body: Buffer | string, extra: string[] = []) =>
    request(
      'POST',
      '/v1/chat/completions',
      [host, auth, json, `Content-Length: ${Buffer.byteLength(body)}`, ...extra],
      body,
    );
  const kind = rng.weighted({
    'random JSON body': 10,
    'mutated body': 12,
    'request for the hostile agent': 16,
    'abrupt disconnect': 8,
    'oversized body': 5,
    'chunked oversized body': 3,
    'lying content-length': 4,
    'bad headers': 10,
    'smuggling attempt': 4,
    'X-Session-Name': 8,
    'slow drip body': 3,
    'slowloris headers': 2,
    pipelined: 3,
    'garbage bytes': 5,
    'bad credentials': 6,
    'random route': 4,
  });
  counts.add(kind);
  const from = o.localAddress;
  switch (kind) {
    case 'random JSON body': {
      const value = rng.pick<unknown>([
        null,
        0,
        'x',
        [],
        {},
        { model: rng.text(8) },
        { model: o.fuzzModel, messages: rng.text(4) },
        { model: o.fuzzModel, messages: [{ role: rng.text(5) }] },
        { model: 'x'.repeat(rng.int(200, 400)), messages: [{ role: 'user' }] },
        { model: o.fuzzModel, messages: [{ role: 'user', content: [{ type: 1 }] }] },
        { model: o.fuzzModel, messages: [{ role: 'user' }], stream: 'yes' },
        // As text: an object literal's __proto__ would set its prototype, not send the key.
        `{"__proto__": {"stream": true, "model": "x"}, "model": "${o.fuzzModel}", "messages": [{"role": "user"}]}`,
      ]);
      await rawExchange(o, {
        from,
        pieces: [
          post(typeof value === 'string' && value.startsWith('{"__proto__"') ? value : JSON.stringify(value)),
        ],
      });
      return;
    }
    case 'mutated body':
      await rawExchange(o, {
        from,
        pieces: [post(rng.mutate(chatBody(rng.pick([o.fuzzModel, o.goodModel]), rng.chance(0.5), rng)))],
      });
      return;
    case 'request for the hostile agent': {
      // Through every translating front-end too: the hostile agent's answers are what they read.
      const stream = rng.chance(0.7);
      const api = rng.weighted({ chat: 4, 'chat with tools': 2, messages: 2, responses: 2 });
      counts.add(`hostile agent via ${api}`);
      const [path, body] = frontEndBody(api, o.fuzzModel, stream, rng);
      const pieces = [
        request('POST', path, [host, auth, json, `Content-Length: ${Buffer.byteLength(body)}`], body),
      ];
      await rawExchange(o, { from, pieces });
      return;
    }
    case 'abrupt disconnect': {
      const body = chatBody(rng.pick([o.fuzzModel, o.goodModel]), true, rng);
      const full = post(body);
      const when = rng.weighted({ 'mid-body': 1, 'after sending': 1, 'after first byte': 2 });
      if (when === 'mid-body') {
        await rawExchange(o, {
          from,
          pieces: [full.subarray(0, rng.int(1, full.length - 1))],
          dropAfterMs: rng.int(0, 20),
        });
      } else if (when === 'after sending') {
        await rawExchange(o, { from, pieces: [full], dropAfterMs: rng.int(0, 30) });
      } else {
        await rawExchange(o, { from, pieces: [full], dropAfterFirstByteMs: rng.int(0, 20) });
      }
      return;
    }
    case 'oversized body': {
      const size = o.maxBodyBytes + rng.int(1, o.maxBodyBytes);
      await rawExchange(o, { from, pieces: [post(Buffer.alloc(size, 0x20))] });
      return;
    }
    case 'chunked oversized body': {
      const pieces: Piece[] = [
        request('POST', '/v1/chat/completions', [host, auth, json, 'Transfer-Encoding: chunked']),
      ];
      let sent = 0;
      while (sent <= o.maxBodyBytes) {
        const size = rng.int(1024, 16 * 1024);
        pieces.push(Buffer.from(`${size.toString(16)}${CRLF}${' '.repeat(size)}${CRLF}`));
        sent += size;
      }
      pieces.push(Buffer.from(`0${CRLF}${CRLF}`));
      await rawExchange(o, { from, pieces });
      return;
    }
    case 'lying content-length': {
      const body = chatBody(o.fuzzModel, false, rng);
      const claimed = rng.pick([0, 1, body.length - 1, body.length + 1, body.length + 1000, 2 ** 40]);
      await rawExchange(o, {
        from,
        pieces: [
          request('POST', '/v1/chat/completions', [host, auth, json, `Content-Length: ${claimed}`], body),
        ],
        dropAfterMs: 500,
      });
      return;
    }
    case 'bad headers': {
      const body = chatBody(o.fuzzModel, false, rng);
      const variant = rng.pick([
        ['Content-Length: abc'],
        ['Content-Length: -1'],
        [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 5}`],
        [`Content-Length: ${body.length}`, `X-Fuzz: ${rng.text(rng.int(0, 200), true)}`],
        [`Content-Length: ${body.length}`, `X-Big: ${'b'.repeat(rng.int(8 * 1024, 40 * 1024))}`],
        [`Content-Length: ${body.length}`, 'Content-Type: text/plain'],
        [`Content-Length: ${body.length}`, `Bad Header Name: x`],
        [`Content-Length: ${body.length}`, `X-Null: a\u0000b`],
        [`Content-Length: ${body.length}`, `Expect: 100-continue`],
        [
          `Content-Length: ${body.length}`,
          ...Array.from({ length: rng.int(100, 3000) }, (_, i) => `X-H${i}: v`),
        ],
      ]);
      const lines = [host, auth, ...variant];
      if (!variant.includes('Content-Type: text/plain')) lines.push(json);
      await rawExchange(o, {
        from,
        pieces: [request('POST', '/v1/chat/completions', lines, body)],
        dropAfterMs: 1000,
      });
      return;
    }
    case 'smuggling attempt': {
      const inner = request('GET', '/api/clients', [host, auth]);
      const variant = rng.pick([
        ['Content-Length: 4', 'Transfer-Encoding: chunked'],
        ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'],
        ['Transfer-Encoding: xchunked'],
        ['Transfer-Encoding : chunked'],
        [`Content-Length: ${inner.length}`, `Content-Length: 0`],
      ]);
      await rawExchange(o, {
        from,
        pieces: [
          request(
            'POST',
            '/v1/chat/completions',
            [host, auth, json, ...variant],
            Buffer.concat([Buffer.from(`0${CRLF}${CRLF}`), inner]),
          ),
        ],
        dropAfterMs: 800,
      });
      return;
    }
    case 'X-Session-Name': {
      const value = rng.pick([
        rng.text(rng.int(1, 128)),
        rng.text(rng.int(129, 2000)),
        rng.text(rng.int(1, 64), true),
        rng
          .bytes(rng.int(1, 64))
          .toString('latin1')
          .replace(/[\r\n]/g, ''),
        `ok-name${CRLF}X-Injected: 1`,
        '',
        `${'a'.repeat(127)}.`,
      ]);
      await rawExchange(o, {
        from,
        pieces: [post(chatBody(o.fuzzModel, rng.chance(0.5), rng), [`X-Session-Name: ${value}`])],
      });
      return;
    }
    case 'slow drip body': {
      const body = Buffer.from(chatBody(o.fuzzModel, false, rng));
      const pieces: Piece[] = [
        request('POST', '/v1/chat/completions', [host, auth, json, `Content-Length: ${body.length}`]),
      ];
      const drips = rng.int(3, 12);
      const step = Math.ceil(body.length / drips);
      for (let at = 0; at < body.length; at += step)
        pieces.push(body.subarray(at, at + step), { waitMs: rng.int(20, 150) });
      await rawExchange(o, { from, pieces, timeoutMs: 4000, dropAfterMs: rng.chance(0.3) ? 100 : undefined });
      return;
    }
    case 'slowloris headers': {
      const full = post(chatBody(o.fuzzModel, false, rng));
      const pieces: Piece[] = [];
      for (let at = 0; at < Math.min(full.length, 60); at += 6)
        pieces.push(full.subarray(at, at + 6), { waitMs: rng.int(50, 200) });
      await rawExchange(o, { from, pieces, timeoutMs: 3000 });
      return;
    }
    case 'pipelined': {
      const first = post(chatBody(o.fuzzModel, false, rng));
      const second = rng.mutate(post(chatBody(o.goodModel, false, rng)));
      await rawExchange(o, { from, pieces: [Buffer.concat([first, second])], dropAfterMs: 1500 });
      return;
    }
    case 'garbage bytes':
      await rawExchange(o, { from, pieces: [rng.bytes(rng.int(1, 4096))], dropAfterMs: 500 });
      return;
    case 'bad credentials': {
      const value = rng.pick([
        '',
        'Bearer',
        'Bearer ',
        `Bearer sk-ar-${rng.text(40)}`,
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        `Bearer ${o.key}x`,
        `Bearer ${rng.text(rng.int(1, 4000))}`,
        `bearer ${rng.text(8, true)}`,
      ]);
      const path = rng.pick([
        '/v1/chat/completions',
        '/v1/models',
        '/api/clients',
        '/api/keys',
        '/api/agents',
      ]);
      const method = path === '/v1/chat/completions' ? 'POST' : 'GET';
      const body = method === 'POST' ? chatBody(o.goodModel, true, rng) : undefined;
      const lines = [host, `Authorization: ${value}`, json];
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      await rawExchange(o, { from: o.badAuthAddress, pieces: [request(method, path, lines, body)] });
      return;
    }
    case 'random route': {
      const method = rng.pick([
        'GET',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'OPTIONS',
        'HEAD',
        'TRACE',
        rng.text(6),
      ]);
      const path = rng.pick([
        '/',
        '/v1',
        '/v1/../api/clients',
        '/api/clients/%00',
        `/${rng.text(rng.int(0, 3000))}`,
        '/v1/chat/completions?x=1',
        '//x',
        '*',
      ]);
      await rawExchange(o, {
        from,
        pieces: [request(method, path.replace(/ /g, '%20'), [host, auth, 'Content-Length: 0'])],
        dropAfterMs: 800,
      });
      return;
    }
  }
}

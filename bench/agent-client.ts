/**
 * Micro-bench of the agent's side of a relayed chunk: the HTTP client that reads the bridge.
 * A stub bridge in a child process answers every request with a chunked SSE stream of ~40-byte
 * events, one event per HTTP chunk and per write (as CloudWaddie and LMArenaBridge do), paced at
 * 20 a second per stream; this process holds `--streams` of them open through one client at a
 * time and prints CPU µs and V8 heap bytes allocated per chunk received, for:
 *   undici-dispatch  the agent's client before: an undici Pool and a dispatch handler
 *   undici-request   an undici Pool and `request()` (a body stream per answer)
 *   node-http        node:http with a keep-alive Agent
 *   http1            bridge-agent/src/upstream/http1 (the hand-written client the agent uses now),
 *                    reading into its own buffer regions (net's `onread`)
 *   http1-stream     the same reading through the socket's Readable stream ('data' events)
 *   net-floor        not a client: raw sockets that count reads and spot the last chunk with one
 *                    `endsWith`, the floor any client over net.Socket 'data' events sits on
 * Rounds are interleaved (each client once per round, order rotated); medians are printed.
 *
 *   npx tsx bench/agent-client.ts [--streams 200] [--chunks 40] [--seconds 3] [--rounds 5]
 *
 * CPU is this process's (user + system) over the window; allocation is heap in use at the end
 * minus at the start plus what each GC in between freed (v8.GCProfiler), as bench/inspector.ts
 * measures relay and agent. Buffer contents off the V8 heap are not counted.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type Dispatcher, Pool } from 'undici';
import { Http1Pool } from '../bridge-agent/src/upstream/http1/pool.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '200' },
    chunks: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    stub: { type: 'boolean', default: false },
  },
});

const CHUNKS = Number(values.chunks);
const EVENT = Buffer.from(`data: {"choices":[{"delta":{"content":"tok"}}]}\n\n`);

/** The stub bridge (child process): raw HTTP/1.1, keep-alive, one timer for every stream. */
async function stub(): Promise<void> {
  const net = await import('node:net');
  const head = Buffer.from(
    'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n',
  );
  const chunk = Buffer.concat([Buffer.from(`${EVENT.length.toString(16)}\r\n`), EVENT, Buffer.from('\r\n')]);
  const last = Buffer.from('0\r\n\r\n');
  type Stream = { socket: import('node:net').Socket; sent: number };
  const streams = new Set<Stream>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let buffered = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const text = buffered.subarray(0, end).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        socket.write(head);
        streams.add({ socket, sent: 0 });
      }
    });
    socket.on('error', () => {});
  });
  setInterval(() => {
    for (const stream of streams) {
      if (stream.socket.destroyed) {
        streams.delete(stream);
        continue;
      }
      stream.socket.write(chunk);
      if (++stream.sent === CHUNKS) {
        stream.socket.write(last);
        streams.delete(stream);
      }
    }
  }, 50);
  server.listen(0, '127.0.0.1', () => {
    process.send?.((server.address() as import('node:net').AddressInfo).port);
  });
}

type Client = {
  name: string;
  /** Sends one request; `onChunk` per body chunk, `done` at its end (or error). */
  stream(onChunk: (chunk: Buffer) => void, done: (error?: Error) => void): void;
  close(): Promise<void>;
};

const BODY = Buffer.from(
  JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
);

function clients(port: number, connections: number): Client[] {
  const origin = `http://127.0.0.1:${port}`;
  const headers = {
    accept: 'text/event-stream, application/json',
    'content-type': 'application/json',
    'content-length': String(BODY.length),
  };
  const undiciPool = new Pool(origin, { connections, keepAliveTimeout: 30_000 });
  const requestPool = new Pool(origin, { connections, keepAliveTimeout: 30_000 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const raw = new Http1Pool({ origin: new URL(origin), connections, timeoutMs: 420_000 });
  const rawStream = new Http1Pool({
    origin: new URL(origin),
    connections,
    timeoutMs: 420_000,
    ownReadBuffers: false,
  });
  const rawHead =
    `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n` +
    `accept: text/event-stream, application/json\r\ncontent-type: application/json\r\n` +
    `content-length: ${BODY.length}\r\n\r\n`;
  const handlerOf = (onChunk: (chunk: Buffer) => void, done: (error?: Error) => void) =>
    ({
      onRequestStart() {},
      onResponseStart() {},
      onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer) {
        onChunk(chunk);
      },
      onResponseEnd() {
        done();
      },
      onResponseError(_c: Dispatcher.DispatchController, error: Error) {
        done(error);
      },
    }) satisfies Dispatcher.DispatchHandler;
  const idle: import('node:net').Socket[] = [];
  const floorSockets = new Set<import('node:net').Socket>();
  const LAST = Buffer.from('0\r\n\r\n');
  return [
    {
      name: 'net-floor',
      stream(onChunk, done) {
        let socket = idle.pop();
        if (!socket) {
          socket = net.connect({ host: '127.0.0.1', port });
          socket.setNoDelay(true);
          floorSockets.add(socket);
          const own = socket;
          own.on('data', (data: Buffer) => {
            const current = (own as unknown as { current?: typeof done }).current;
            (own as unknown as { onChunk: typeof onChunk }).onChunk(data);
            if (data.length >= LAST.length && data.subarray(data.length - LAST.length).equals(LAST)) {
              (own as unknown as { current?: typeof done }).current = undefined;
              idle.push(own);
              current?.();
            }
          });
          own.on('error', (error) => (own as unknown as { current?: typeof done }).current?.(error));
        }
        (socket as unknown as { current?: typeof done }).current = done;
        (socket as unknown as { onChunk: typeof onChunk }).onChunk = onChunk;
        socket.write(rawHead);
        socket.write(BODY);
      },
      close: async () => {
        for (const socket of floorSockets) socket.destroy();
      },
    },
    {
      name: 'undici-dispatch',
      stream(onChunk, done) {
        undiciPool.dispatch(
          { method: 'POST', path: '/v1/chat/completions', headers, body: BODY },
          handlerOf(onChunk, done),
        );
      },
      close: () => undiciPool.close(),
    },
    {
      name: 'undici-request',
      stream(onChunk, done) {
        requestPool
          .request({ method: 'POST', path: '/v1/chat/completions', headers, body: BODY })
          .then(({ body }) => {
            body.on('data', onChunk);
            body.on('end', () => done());
            body.on('error', done);
          }, done);
      },
      close: () => requestPool.close(),
    },
    {
      name: 'node-http',
      stream(onChunk, done) {
        const request = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers, agent },
          (response) => {
            response.on('data', onChunk);
            response.on('end', () => done());
            response.on('error', done);
          },
        );
        request.on('error', done);
        request.end(BODY);
      },
      close: async () => agent.destroy(),
    },
    {
      name: 'http1',
      stream(onChunk, done) {
        raw.dispatch({ head: rawHead, body: [BODY] }, handlerOf(onChunk, done));
      },
      close: () => raw.close(),
    },
    {
      name: 'http1-stream',
      stream(onChunk, done) {
        rawStream.dispatch({ head: rawHead, body: [BODY] }, handlerOf(onChunk, done));
      },
      close: () => rawStream.close(),
    },
  ];
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type Sample = { cpuUs: number; bytes: number; chunks: number; gcs: number };

/** Keeps `streams` streams open through `client` for `seconds` (after 1 s of warm-up) and measures. */
async function window(client: Client, streams: number, seconds: number): Promise<Sample> {
  let chunks = 0;
  let failures = 0;
  let running = true;
  const onChunk = (): void => {
    chunks++;
  };
  const open = (): void => {
    client.stream(onChunk, (error) => {
      if (error) failures++;
      if (running) open();
    });
  };
  for (let i = 0; i < streams; i++) open();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  gc();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const heapStart = v8.getHeapStatistics().used_heap_size;
  const cpuStart = process.cpuUsage();
  const chunksStart = chunks;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = process.cpuUsage(cpuStart);
  const heapEnd = v8.getHeapStatistics().used_heap_size;
  const chunksSeen = chunks - chunksStart;
  const gcs = profiler.stop()?.statistics ?? [];
  running = false;
  const freed = gcs.reduce(
    (sum, s) => sum + (s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize),
    0,
  );
  if (failures > 0) console.error(`${client.name}: ${failures} failed streams`);
  // Let the streams of this window finish before the next client's.
  await new Promise((resolve) => setTimeout(resolve, (CHUNKS / 20) * 1000 + 300));
  return {
    cpuUs: cpu.user + cpu.system,
    bytes: heapEnd - heapStart + freed,
    chunks: chunksSeen,
    gcs: gcs.length,
  };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const child = fork(new URL(import.meta.url).pathname, ['--stub', '--chunks', String(CHUNKS)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  const all = clients(port, streams + 1);
  const samples = new Map<string, Sample[]>(all.map((c) => [c.name, []]));
  const load = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(
    `${streams} streams × ${CHUNKS} chunks of ${EVENT.length} B at 20/s, ${seconds} s windows, ${rounds} rounds; load before: ${load()}`,
  );
  for (let round = 0; round < rounds; round++) {
    const order = all.map((_, i) => all[(i + round) % all.length]!);
    for (const client of order) {
      const sample = await window(client, streams, seconds);
      samples.get(client.name)!.push(sample);
      console.error(
        `round ${round + 1} ${client.name}: ${(sample.cpuUs / sample.chunks).toFixed(1)} µs, ${(sample.bytes / sample.chunks).toFixed(0)} B per chunk (${sample.chunks} chunks, ${sample.gcs} GCs)`,
      );
    }
  }
  console.log(`load after: ${load()} (a shared box: compare rows of one run, not runs)`);
  console.log(
    '\n| client | CPU µs per chunk | bytes allocated per chunk | chunks per window | GCs per window |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, list] of samples) {
    const cpu = median(list.map((s) => s.cpuUs / s.chunks));
    const bytes = median(list.map((s) => s.bytes / s.chunks));
    console.log(
      `| ${name} | ${cpu.toFixed(1)} | ${bytes.toFixed(0)} | ${median(list.map((s) => s.chunks))} | ${median(list.map((s) => s.gcs))} |`,
    );
  }
  await Promise.all(all.map((c) => c.close()));
  child.kill();
}

if (values.stub) await stub();
else await main();

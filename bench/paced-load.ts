/**
 * The load generator of the paced-load scenario: `streams` streaming chat requests opened at once
 * (spread over one chunk interval, so their chunks are too), each on its own connection
 * (`connection: close`, as a consumer with one long answer opens it), held until the answer ends.
 * Raw sockets and a hand-written request: node:http's parser and a 'data' event per chunk would
 * cost the client more than some hops it measures. It records the time of every read after the
 * response head and the gaps between them; a read is a chunk here, as the chunks are paced far
 * apart (tens of ms) compared with a loopback write (µs).
 */
import { connect } from 'node:net';

export type PacedLoadResult = {
  ok: number;
  failed: number;
  /** Gaps between two reads of a stream after `steadyMs`, in ms, sorted. */
  gaps: Float64Array;
  /** The first failure, as text (status line or socket error). */
  firstError: string | undefined;
};

export type PacedLoadOptions = {
  url: string;
  apiKey?: string | undefined;
  streams: number;
  /** Over how long the starts are spread, ms (one chunk interval). */
  spreadMs: number;
  /** Gaps before this long after the first start are left out (the opening burst), ms. */
  steadyMs: number;
  /** Gaps under this are left out: a head or a closing chunk written back to back, ms. */
  minGapMs: number;
  /** How many chunks each stream asks for (`max_tokens`: the stub bridge answers that many). */
  chunks: number;
  /** A stream not over after this long fails, ms. */
  timeoutMs: number;
  /** Called once every stream has started (for readings while all are open). */
  onAllOpen?(): void;
};

const TERMINATOR = '0\r\n\r\n';

/** The request, asking the stub bridge for `chunks` events through `max_tokens`. */
function request(url: URL, apiKey: string | undefined, chunks: number): Buffer {
  const body = JSON.stringify({
    model: 'gpt-5',
    messages: [{ role: 'user', content: 'Tell me a long story.' }],
    stream: true,
    max_tokens: chunks,
  });
  return Buffer.from(
    [
      `POST /v1/chat/completions HTTP/1.1`,
      `host: ${url.host}`,
      'content-type: application/json',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
      ...(apiKey ? [`authorization: Bearer ${apiKey}`] : []),
      '',
      body,
    ].join('\r\n'),
  );
}

export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const url = new URL(options.url);
  const port = Number(url.port);
  const bytes = request(url, options.apiKey, options.chunks);
  const gaps = new Float64Array(options.streams * (options.chunks + 4));
  let gapCount = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const steadyFrom = startedAt + options.steadyMs;

  const one = () =>
    new Promise<void>((resolve) => {
      const socket = connect(port, url.hostname);
      socket.setNoDelay(true);
      let status = '';
      let inBody = false;
      let last = 0;
      let tail = '';
      let done = false;
      let received = 0;
      const settle = (why: string | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (why === undefined) ok++;
        else {
          failed++;
          firstError ??= why;
          socket.destroy();
        }
        resolve();
      };
      const fail = (why: string) => settle(why);
      const timer = setTimeout(
        () =>
          fail(`${status || 'no answer'}… not over within ${options.timeoutMs} ms (${received} body bytes)`),
        options.timeoutMs,
      );
      socket.on('connect', () => socket.write(bytes));
      socket.on('data', (data: Buffer) => {
        const at = performance.now();
        if (!inBody) {
          // The head comes first and whole (a few hundred bytes); a chunk may ride with it.
          status ||= data.toString('latin1', 0, Math.min(data.length, 12));
          const end = data.indexOf('\r\n\r\n');
          if (end === -1) return;
          inBody = true;
          if (end + 4 === data.length) return;
        }
        const gap = at - last;
        if (last !== 0 && at >= steadyFrom && gap >= options.minGapMs && gapCount < gaps.length)
          gaps[gapCount++] = gap;
        last = at;
        received += data.length;
        tail = (tail + data.toString('latin1', Math.max(0, data.length - TERMINATOR.length))).slice(
          -TERMINATOR.length,
        );
        // Over at its last chunk, whether or not the server closes the connection after it.
        if (tail === TERMINATOR && status === 'HTTP/1.1 200') {
          settle(undefined);
          socket.destroy();
        }
      });
      socket.on('error', (error) => fail(error.message));
      socket.on('close', () => {
        if (status === 'HTTP/1.1 200' && tail === TERMINATOR) settle(undefined);
        else fail(status ? `${status}… ended without its last chunk` : 'closed before a response');
      });
    });

  const streams: Array<Promise<void>> = [];
  for (let i = 0; i < options.streams; i++) {
    const due = startedAt + (i * options.spreadMs) / options.streams;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    streams.push(one());
  }
  options.onAllOpen?.();
  await Promise.all(streams);
  const sorted = gaps.subarray(0, gapCount).sort();
  return { ok, failed, gaps: sorted, firstError };
}

/** Nearest-rank percentile of a sorted typed array; NaN when empty. */
export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

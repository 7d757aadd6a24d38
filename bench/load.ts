/**
 * The load generators. `runLoad`: N concurrent keep-alive workers sending streaming chat requests
 * for a fixed time (and at most `maxRequests`), recording time to first body byte per request.
 * `runPacedStreams`: N streams opened together, recording the gaps between their chunks.
 */
import http from 'node:http';
import { percentile } from './stats.js';

export type LoadResult = {
  concurrency: number;
  completed: number;
  failed: number;
  seconds: number;
  streamsPerSecond: number;
  ttfbP50: number;
  ttfbP99: number;
  bytes: number;
};

const BODY = JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hello' }], stream: true });

/** A request that has not finished in this time fails (and its socket is dropped). */
const REQUEST_TIMEOUT_MS = 30_000;

type Target = { url: string; apiKey?: string | undefined };

function requestOptions(target: Target, agent: http.Agent) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(BODY)),
  };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return { url: new URL('/v1/chat/completions', target.url), options: { method: 'POST', agent, headers } };
}

/** One streaming request; `onData` sees each body chunk. Resolves true when it ended with a 200. */
function streamOnce(target: Target, agent: http.Agent, onData: (chunk: Buffer, at: number) => void) {
  const { url, options } = requestOptions(target, agent);
  return new Promise<boolean>((resolve) => {
    const req = http.request(url, options, (res) => {
      res.on('data', (chunk: Buffer) => onData(chunk, performance.now()));
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('request timed out')));
    req.on('error', () => resolve(false));
    req.end(BODY);
  });
}

/** Runs `concurrency` workers against `url` for `durationMs` (at most `maxRequests`); TTFB in ms. */
export async function runLoad(
  target: Target,
  options: { concurrency: number; durationMs: number; maxRequests?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const ttfb: number[] = [];
  let started = 0;
  let completed = 0;
  let failed = 0;
  let bytes = 0;
  const maxRequests = options.maxRequests ?? 1_000_000;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const one = async () => {
    const sent = performance.now();
    let first = true;
    const ok = await streamOnce(target, agent, (chunk, at) => {
      if (first) {
        ttfb.push(at - sent);
        first = false;
      }
      bytes += chunk.byteLength;
    });
    if (ok) completed++;
    else failed++;
  };
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline && started < maxRequests) {
        started++;
        await one();
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  ttfb.sort((a, b) => a - b);
  return {
    concurrency: options.concurrency,
    completed,
    failed,
    seconds,
    streamsPerSecond: completed / seconds,
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
    bytes,
  };
}

/**
 * Brings a path to its steady state before it is measured: the relay and the agent are
 * JIT-compiled, and their first few thousand streams run on unoptimised code (measured on the
 * 2-core box: relay+agent at c=1 went from ~320 to ~1 100 streams/s over its first 9 s; direct
 * and nginx showed no such ramp). 20 000 streams at c=50, or 10 s, whichever comes first.
 */
export function warmUp(target: Target): Promise<LoadResult> {
  return runLoad(target, { concurrency: 50, durationMs: 10_000, maxRequests: 20_000 });
}

export type PacedResult = { completed: number; failed: number; gaps: number[] };

/**
 * Keeps `streams` paced streams open at once for `durationMs` (a worker starts a new stream when
 * its last one ends), the first starts spread over `rampMs` so that starts, and the chunk timers,
 * are spread evenly. Returns the gaps between two chunks of a stream that arrived after `rampMs`
 * (steady state), in ms, sorted. Gaps under `minGapMs` are left out: the bridge writes its stop
 * event right behind the last piece, and those back-to-back writes are not a paced gap.
 */
export async function runPacedStreams(
  target: Target,
  options: { streams: number; rampMs: number; durationMs: number; minGapMs: number; agent: http.Agent },
): Promise<PacedResult> {
  const gaps: number[] = [];
  let completed = 0;
  let failed = 0;
  const startedAt = performance.now();
  const steadyFrom = startedAt + options.rampMs;
  const deadline = startedAt + options.durationMs;
  const worker = async (index: number) => {
    await new Promise((resolve) => setTimeout(resolve, (index * options.rampMs) / options.streams));
    // Bounded by time, and by count: no stream is shorter than one chunk gap.
    for (let n = 0; performance.now() < deadline && n < options.durationMs / options.minGapMs; n++) {
      let last = 0;
      const ok = await streamOnce(target, options.agent, (_chunk, at) => {
        const gap = at - last;
        if (last !== 0 && at >= steadyFrom && gap >= options.minGapMs) gaps.push(gap);
        last = at;
      });
      if (ok) completed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: options.streams }, (_, i) => worker(i)));
  gaps.sort((a, b) => a - b);
  return { completed, failed, gaps };
}

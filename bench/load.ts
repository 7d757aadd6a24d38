/**
 * The load generator: N concurrent keep-alive workers sending streaming chat requests for a fixed
 * time; records time to first body byte and completion per request.
 */
import http from 'node:http';

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

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const BODY = JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hello' }], stream: true });

/** Runs `concurrency` workers against `url` for `durationMs`; TTFB in milliseconds. */
export async function runLoad(
  url: string,
  options: { concurrency: number; durationMs: number; apiKey?: string },
): Promise<LoadResult> {
  const target = new URL('/v1/chat/completions', url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(BODY)),
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const ttfb: number[] = [];
  let completed = 0;
  let failed = 0;
  let bytes = 0;
  const deadline = performance.now() + options.durationMs;

  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      let first = true;
      const req = http.request(target, { method: 'POST', agent, headers }, (res) => {
        res.on('data', (chunk: Buffer) => {
          if (first) {
            ttfb.push(performance.now() - started);
            first = false;
          }
          bytes += chunk.byteLength;
        });
        res.on('end', () => {
          if (res.statusCode === 200) completed++;
          else failed++;
          resolve();
        });
        res.on('error', () => {
          failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(BODY);
    });

  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) await one();
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

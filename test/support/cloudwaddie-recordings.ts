/**
 * The recordings of CloudWaddie's LMArenaBridge (shared/fixtures/cloudwaddie/), parsed once: each
 * fixture's status, headers in their order, body bytes, and the read times of its pieces
 * (timing/<name>.json), so a fake can replay them byte for byte at the recorded cadence.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The recordings live beside the repository, in the shared folder; override for other layouts.
export const CLOUDWADDIE_FIXTURES =
  process.env.CLOUDWADDIE_FIXTURES ??
  fileURLToPath(new URL('../../../shared/fixtures/cloudwaddie/', import.meta.url));

/** One piece of a recorded body: `n` bytes read `t` seconds after the request began. */
export type RecordedRead = { t: number; n: number };

export type Recording = {
  /** The fixture's name without `.txt`, e.g. `429-stream`. */
  name: string;
  status: number;
  reason: string;
  /** Response headers as recorded, in order, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Seconds to the status line (curl's time to first byte). */
  ttfb: number;
  /** The body's pieces in order; their `n` add up to `body.length`. */
  reads: RecordedRead[];
  /** Seconds until the recording ended (curl's total); the hang fixture has no status at all. */
  total: number;
};

type TimingJson = { ttfb?: number; total?: number; reads?: Array<{ t: number; n: number }> };

/** Parses one fixture file (`HTTP/1.1 …` status line, headers, blank line, body). */
export function parseRecording(name: string, bytes: Buffer, timing: TimingJson): Recording {
  const split = bytes.indexOf('\r\n\r\n');
  const head = split === -1 ? '' : bytes.subarray(0, split).toString('latin1');
  const body = split === -1 ? Buffer.alloc(0) : bytes.subarray(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(statusLine);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const reads = (timing.reads ?? []).map(({ t, n }) => ({ t, n }));
  return {
    name,
    status: status ? Number(status[1]) : 0,
    reason: status?.[2] ?? '',
    headers,
    body,
    ttfb: timing.ttfb ?? 0,
    reads: reads.length > 0 || body.length === 0 ? reads : [{ t: timing.ttfb ?? 0, n: body.length }],
    total: timing.total ?? 0,
  };
}

let cache: Map<string, Recording> | undefined;

/** Every recording by name (read from disk once per process). */
export function cloudWaddieRecordings(): ReadonlyMap<string, Recording> {
  if (cache) return cache;
  cache = new Map();
  for (const file of readdirSync(CLOUDWADDIE_FIXTURES)) {
    if (!file.endsWith('.txt')) continue;
    const name = file.slice(0, -4);
    const timingFile = join(CLOUDWADDIE_FIXTURES, 'timing', `${name}.json`);
    const timing = existsSync(timingFile) ? (JSON.parse(readFileSync(timingFile, 'utf8')) as TimingJson) : {};
    cache.set(name, parseRecording(name, readFileSync(join(CLOUDWADDIE_FIXTURES, file)), timing));
  }
  return cache;
}

/** The recording `name`; throws (a test bug) when there is none. */
export function recording(name: string): Recording {
  const found = cloudWaddieRecordings().get(name);
  if (!found) throw new Error(`no CloudWaddie recording named ${name}`);
  return found;
}

/**
 * Chat scenarios a request can select, each with its streamed and/or non-streamed recording:
 * `text` → `text-stream` / `text-nonstream`.
 */
export function cloudWaddieChatScenarios(): string[] {
  const names = new Set<string>();
  for (const name of cloudWaddieRecordings().keys()) {
    const match = /^(.+)-(stream|nonstream)$/.exec(name);
    if (match) names.add(match[1]!);
  }
  return [...names].sort();
}

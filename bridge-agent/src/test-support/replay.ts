/**
 * Plays a recorded bridge answer (status line and headers first, as in shared/fixtures/) through
 * the agent's classification, without a socket: what `forward` would send the relay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventStreamPump } from '../upstream/body-pumps.js';
import { errorDetail, type UpstreamFailure } from '../upstream/classify.js';
import type { Dialect } from '../upstream/dialects/index.js';
import type { StreamSink } from '../upstream/forward.js';
import { PlainPump } from '../upstream/plain-pump.js';

/** The recordings; `LMARENABRIDGE_FIXTURES` (the v2.7.6 folder) moves them, as in the suite. */
export const FIXTURES = process.env.LMARENABRIDGE_FIXTURES
  ? join(process.env.LMARENABRIDGE_FIXTURES, '..')
  : fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

export type Recording = { status: number; headers: Record<string, string>; body: Buffer };

/** Reads `fixtures/<bridge>/<name>`: status line, headers, blank line, body (already de-chunked). */
export function recording(bridge: string, name: string): Recording {
  const bytes = readFileSync(join(FIXTURES, bridge, name));
  const cut = bytes.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = bytes.toString('latin1', 0, cut).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(cut + 4) };
}

/** What reached the sink. */
export type Outcome = { head?: number; body: string; failure?: UpstreamFailure; ended: boolean };

/**
 * Feeds `rec` to the dialect's pumps (or status classifier) in pieces of `piece` bytes (default:
 * all at once), as `forward` does for a real answer.
 */
export function replay(dialect: Dialect, rec: Recording, piece = rec.body.length || 1): Outcome {
  const outcome: Outcome = { body: '', ended: false };
  if (rec.status < 200 || rec.status >= 300) {
    const text = rec.body.toString('utf8');
    outcome.failure = dialect.classifyStatus(rec.status, errorDetail(text), rec.headers['retry-after'], text);
    return outcome;
  }
  let stopped = false;
  const written: Buffer[] = [];
  const sink: StreamSink = {
    head: (status) => {
      outcome.head = status;
    },
    write: (chunk) => {
      // Decoded at the end: a piece may split a character.
      written.push(Buffer.from(chunk));
      return true;
    },
    end: () => {
      outcome.ended = true;
    },
    fail: () => {},
    onWritable: undefined,
    aborted: false,
    onAbort: undefined,
  };
  const stop = (failure: UpstreamFailure) => {
    stopped = true;
    outcome.failure = failure;
  };
  const type = rec.headers['content-type'] ?? '';
  const pump = type.startsWith('text/event-stream')
    ? new EventStreamPump(sink, stop, type, dialect)
    : new PlainPump(sink, stop, rec.status, type, dialect);
  for (let at = 0; at < rec.body.length && !stopped; at += piece) {
    pump.onChunk(Buffer.from(rec.body.subarray(at, at + piece)));
  }
  if (!stopped) pump.onEnd();
  outcome.body = Buffer.concat(written).toString('utf8');
  return outcome;
}

/**
 * LMArenaBridge reports failures inside a 200 event stream: a content chunk whose text starts
 * with "\n\n[LMArena Bridge Error]: ". These helpers spot that without parsing normal chunks.
 */

/** The text an in-band bridge error's content starts with. */
export const BRIDGE_ERROR_PREFIX = '\n\n[LMArena Bridge Error]: ';

/**
 * The prefix as it appears in the bridge's JSON bytes (newlines escaped). Matching it rather than
 * the bare "[LMArena Bridge Error]" keeps model text that merely mentions the phrase flowing.
 */
export const BRIDGE_ERROR_MARKER = Buffer.from(JSON.stringify(BRIDGE_ERROR_PREFIX).slice(1, -1));

/**
 * Finds a marker (by default v2.7.6's in-band error prefix; a dialect names its own) in a stream of
 * chunks, including across a chunk boundary. Per chunk: one `indexOf`, plus a scan of the last few
 * bytes; a few bytes are copied only when a chunk ends with the marker's first byte nearby.
 */
export class MarkerScanner {
  readonly #marker: Buffer;
  readonly #first: number;
  readonly #tailLength: number;
  /** Holds the end of the previous chunk(s) followed by the start of the current one. */
  readonly #window: Buffer;
  #tail = 0;

  constructor(marker: Buffer = BRIDGE_ERROR_MARKER) {
    this.#marker = marker;
    this.#first = marker[0]!;
    this.#tailLength = marker.length - 1;
    this.#window = Buffer.alloc(this.#tailLength * 2);
  }

  /** True when the marker ends in `chunk` (it may have begun in an earlier chunk). */
  scan(chunk: Buffer): boolean {
    if (this.#tail > 0) {
      const head = Math.min(chunk.length, this.#tailLength);
      chunk.copy(this.#window, this.#tail, 0, head);
      const joined = this.#tail + head;
      if (this.#window.subarray(0, joined).indexOf(this.#marker) !== -1) return true;
      if (chunk.length < this.#tailLength) return this.#keepTail(this.#window, joined);
    }
    if (chunk.indexOf(this.#marker) !== -1) return true;
    return this.#keepTail(chunk, chunk.length);
  }

  /** Remembers the last marker-length-minus-one bytes of `source[0, end)` when they could start a marker. */
  #keepTail(source: Buffer, end: number): false {
    const from = Math.max(0, end - this.#tailLength);
    const at = source.indexOf(this.#first, from);
    if (at === -1 || at >= end) {
      this.#tail = 0;
    } else {
      source.copy(this.#window, 0, at, end);
      this.#tail = end - at;
    }
    return false;
  }
}

/** The message of the in-band error whose `data:` line contains `at`, if it parses as one. */
function messageOfEventAt(bytes: Buffer, at: number): string | undefined {
  const start = bytes.lastIndexOf('data:', at);
  if (start === -1) return undefined;
  let end = bytes.indexOf(10, at);
  if (end === -1) end = bytes.length;
  try {
    const event = JSON.parse(bytes.toString('utf8', start + 5, end)) as {
      choices?: { delta?: { content?: unknown } }[];
    };
    const content = event.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content.startsWith(BRIDGE_ERROR_PREFIX)) {
      return content.slice(BRIDGE_ERROR_PREFIX.length);
    }
  } catch {
    // Not an event of the bridge's shape: no message to extract.
  }
  return undefined;
}

/**
 * When the first SSE event (bytes before the first blank line) is an in-band bridge error,
 * returns its message; otherwise undefined. JSON is parsed only when the marker is present.
 */
export function firstEventError(event: Buffer): string | undefined {
  const at = event.indexOf(BRIDGE_ERROR_MARKER);
  return at === -1 ? undefined : messageOfEventAt(event, at);
}

/** The message of an in-band error found in a later chunk (error path only). */
export function laterEventError(chunk: Buffer): string {
  const at = chunk.indexOf(BRIDGE_ERROR_MARKER);
  return (at === -1 ? undefined : messageOfEventAt(chunk, at)) ?? 'the bridge reported an error mid-stream';
}

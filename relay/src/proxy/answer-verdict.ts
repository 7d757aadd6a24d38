/**
 * What the answer guard (answer-guard.ts) reads in a bridge's 200: one SSE event or a whole JSON
 * body judged as content, nothing yet (a keep-alive comment, a role chunk) or a failure in
 * disguise, and which failure an upstream `{"error": …}` stands for. Pure functions of text.
 */
import { truncateChars } from '@arena-relay/shared';
import type { StreamFailure } from '../tunnel/stream.js';

/** `comment`: an event with no data (`: keep-alive`); `wait`: data with nothing in it yet (a role chunk). */
export type Verdict = 'content' | 'wait' | 'comment' | StreamFailure;

/** How a v2.7.6 bridge error starts as content (LMARENABRIDGE.md), with its leading blank line. */
const BRIDGE_ERROR_TEXT = '\n\n[LMArena Bridge Error]: ';

/** Codes some bridges put in an error body instead of a status (WebAI2API, CloudWaddie `http_403`). */
const NAMED_STATUS: Readonly<Record<string, number>> = {
  SERVER_BUSY: 429,
  RECAPTCHA: 403,
  BROWSER_NOT_INITIALIZED: 503,
};

/** The failure an upstream `{"error": …}` stands for: its status decides whose fault and the code. */
export function errorFailure(error: unknown): StreamFailure {
  const { message, code, status } = (typeof error === 'object' && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const text =
    typeof message === 'string' ? message : typeof error === 'string' ? error : JSON.stringify(error);
  const said =
    typeof code === 'number'
      ? code
      : typeof status === 'number'
        ? status
        : typeof code === 'string'
          ? (NAMED_STATUS[code] ?? Number(/^http_(\d{3})$/.exec(code)?.[1] ?? 0))
          : 0;
  const base = { message: truncateChars(`the bridge answered 200 with an error: ${text}`, 8192) };
  if (said === 401 || said === 403 || said === 429 || said === 503) {
    return { ...base, code: 'upstream_unavailable', status: said, scope: 'bridge' };
  }
  return { ...base, code: 'upstream_error', status: said >= 400 && said <= 599 ? said : 502, scope: 'model' };
}

export function emptyFailure(what: string): StreamFailure {
  return {
    code: 'upstream_error',
    status: 502,
    scope: 'model',
    message: `the bridge answered 200 with ${what}`,
  };
}

/** A delta or message with nothing in it but its role (content `""`, `null`, `[]` count as nothing). */
function isEmptyPart(part: unknown): boolean {
  if (typeof part !== 'object' || part === null) return true;
  for (const [key, value] of Object.entries(part)) {
    if (key === 'role' || value === null || value === undefined || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    return false;
  }
  return true;
}

/** One parsed JSON value of a streamed event or a whole body: content, nothing yet, or a failure. */
function judge(json: unknown, whole: boolean): Verdict {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'content';
  const { error, choices } = json as { error?: unknown; choices?: unknown };
  if (error !== undefined && error !== null && !Array.isArray(choices)) return errorFailure(error);
  if (!Array.isArray(choices)) return 'content';
  let finished = false;
  for (const choice of choices as Array<Record<string, unknown> | null>) {
    const part = whole ? choice?.message : choice?.delta;
    const content = (part as { content?: unknown } | null | undefined)?.content;
    // v2.7.6's in-band failure is text: its prefix is the only mark (agents of every age read it).
    if (typeof content === 'string' && content.startsWith(BRIDGE_ERROR_TEXT)) {
      return errorFailure({ message: content.slice(BRIDGE_ERROR_TEXT.length) });
    }
    if (!isEmptyPart(part)) return 'content';
    if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) finished = true;
  }
  if (whole) return emptyFailure(choices.length === 0 ? 'no choices' : 'an empty message');
  return finished ? emptyFailure('a bare stop and no content') : 'wait';
}

/** The `data:` payload of one SSE event (its lines joined), or undefined for a comment-only event. */
function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

export function judgeEvent(event: string): Verdict {
  const data = eventData(event);
  if (data === undefined) return 'comment';
  if (data.trim() === '[DONE]') return emptyFailure('[DONE] before any content');
  try {
    return judge(JSON.parse(data), false);
  } catch {
    return 'content';
  }
}

/** End of the first complete SSE event in `bytes` (past its blank line), or -1. */
export function eventEnd(bytes: Buffer): number {
  const lf = bytes.indexOf('\n\n');
  const crlf = bytes.indexOf('\r\n\r\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  return lf === -1 ? -1 : lf + 2;
}

/** Begins like an error event or body (`data: {"error"` / `{"error"`): judged without its end. */
export const ERROR_START = /^\s*(data: ?)?\{\s*"error"\s*:/;

/** A whole non-streamed body: empty, an error instead of choices, no content, or an answer. */
export function judgeBody(text: string): Verdict {
  if (text.trim() === '') return emptyFailure('an empty body');
  try {
    return judge(JSON.parse(text), true);
  } catch {
    return 'content';
  }
}

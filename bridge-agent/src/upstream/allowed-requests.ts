/**
 * The requests a relay may have the agent send to the bridge: exact method + path pairs, nothing
 * else. A relay can be compromised (or its plain `ws://` traffic rewritten), and the bridge is a
 * local server that trusts its caller: a prefix check let `/v1/../internal/…`, `/v1/%2e%2e/…` and
 * `/v1//host/…` reach it as written. Every front-end of the relay (chat, Messages, Responses,
 * images) is served through the bridge's chat completions, so that is the whole list.
 *
 * Checked on the path as the `open` names it, before any bridge dialect maps it onto the bridge's
 * own base path: the list is the relay's vocabulary, whatever the bridge calls it.
 */
import type { OpenFrame } from '@arena-relay/shared';
import { truncateChars } from '@arena-relay/shared';

/** `METHOD path`, compared whole: no query string, no normalisation, no case folding. */
const ALLOWED = new Set(['POST /v1/chat/completions']);

/** How much of a refused path the error message quotes (the path is the relay's choice). */
const QUOTED_PATH_CHARS = 200;

/** Why the agent will not send `open` to the bridge; undefined when it may. */
export function refusedRequest(open: Pick<OpenFrame, 'method' | 'path'>): string | undefined {
  if (ALLOWED.has(`${open.method} ${open.path}`)) return undefined;
  // JSON quoting shows control characters and `%2e` tricks as the escapes they are.
  const asked = `${open.method} ${JSON.stringify(truncateChars(open.path, QUOTED_PATH_CHARS))}`;
  return `the agent forwards only ${[...ALLOWED].join(', ')}, not ${asked}`;
}

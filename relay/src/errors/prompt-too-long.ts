/**
 * The relay's `prompt_too_long` in its two origins, worded once: the relay's own check before any
 * bridge is asked (routing/prompt-limit.ts, routing/candidates.ts), and the bridge's refusal as
 * the agent passes it on (proxy/failures.ts). Here, below both, so neither imports the other.
 */
import { truncateChars } from '@arena-relay/shared';
import { RelayError } from './relay-error.js';

/** The relay's 400 for a prompt of `chars` characters over `limit` (the largest a bridge takes). */
export function promptTooLong(chars: number, limit: number, models?: readonly string[]): RelayError {
  const serving = models?.length
    ? ` serving ${truncateChars(models.map((m) => `'${m}'`).join(' or '), 300)}`
    : '';
  return new RelayError(
    'prompt_too_long',
    `The prompt is ${chars} characters; the bridges${serving} accept at most ${limit} ` +
      '(counted as LMArena bridges count it: the system messages and the last message). Shorten it.',
    { param: 'messages' },
  );
}

const BRIDGE_TOO_LONG = /Prompt too long \((\d{1,12}) characters\)/;
const BRIDGE_LIMIT = /limit of approximately (\d{1,12}) characters/;

/**
 * The bridge's own refusal (`{"detail":"Prompt too long (113568 characters). LMArena has a
 * character limit of approximately 113567 characters. …"}`, passed on by the agent as an
 * `upstream_rejected` 400), as the relay's `prompt_too_long`; undefined for any other text.
 */
export function bridgeTooLong(message: string): RelayError | undefined {
  const found = BRIDGE_TOO_LONG.exec(message);
  if (!found) return undefined;
  const limit = BRIDGE_LIMIT.exec(message);
  const chars = Number(found[1]);
  return limit
    ? promptTooLong(chars, Number(limit[1]))
    : new RelayError(
        'prompt_too_long',
        `The prompt is ${chars} characters, more than the bridge accepts. Shorten it.`,
        {
          param: 'messages',
        },
      );
}

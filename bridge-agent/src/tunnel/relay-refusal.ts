/**
 * What the relay's refusal of the upgrade means: the answers no retry can fix (a refused token
 * or protocol, a token replaced past its grace) are fatal, in words the owner can act on.
 */
import { SUBPROTOCOL, TOKEN_ROTATED } from '@arena-relay/shared';

/** Upgrade answers that no retry can fix, and what to tell the owner. */
const FATAL_ANSWERS: Record<number, string> = {
  401: 'the relay refused the client token (401): check api_key / AGENT_TOKEN',
  403: 'the relay refused the client token (403): the client may be disabled; check api_key / AGENT_TOKEN',
  426: `the relay refused the protocol (426): this agent speaks ${SUBPROTOCOL}; update the agent`,
};

/** What the owner reads when the relay says the token was replaced and its grace is over. */
export const TOKEN_ROTATED_MESSAGE =
  "the relay says this agent's client token was replaced (a newer package was downloaded, or the " +
  'token was rotated) and its grace period is over: install the new package (or put its api_key ' +
  'in config.jsonc) and start the agent again';

/**
 * Raised through the `fatal` event. `status` is the relay's HTTP answer to the upgrade, when it
 * answered; `code` the TLS verification code, when the relay's certificate was refused.
 */
export class FatalLinkError extends Error {
  override readonly name = 'FatalLinkError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The refusal of an upgrade answered with HTTP `status` (`refusal`: the relay's REFUSAL_HEADER):
 * a FatalLinkError when no retry can help, else why the dial failed (the link retries).
 */
export function refusalOf(status: number, refusal: string | string[] | undefined): FatalLinkError | string {
  if (status === 401 && refusal === TOKEN_ROTATED) {
    return new FatalLinkError(TOKEN_ROTATED_MESSAGE, status, TOKEN_ROTATED);
  }
  const fatal = FATAL_ANSWERS[status];
  if (fatal) return new FatalLinkError(fatal, status);
  return `the relay answered the upgrade with HTTP ${status}`;
}

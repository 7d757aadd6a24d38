/**
 * Closes the agent sockets that hold a replaced client token when the token's grace ends: a
 * download or rotation leaves the old token valid for a while (CREDENTIAL_GRACE_SECONDS), so the
 * owner's running agent keeps serving until then, and is told in words (close 4003) afterwards.
 * Two ways in: a session admitted with a previous token closes at its end of grace, and a
 * rotation (on any relay: the cluster passes it on) sets the end for the client's sessions that
 * do not hold the new token. A session keeps the earliest end it was given. One timer per such
 * session, cleared when the session closes.
 */
import { CloseCode } from '@arena-relay/shared';
import type { AgentSession } from './agent-session.js';

/** The close reason an agent gets when its token's grace ends. */
export const TOKEN_ROTATED_REASON =
  'client token replaced (a new package was downloaded or the token rotated); install the new package';

type Held = { hash: string; at?: number; timer?: NodeJS.Timeout };

export class TokenRetirement {
  readonly #held = new WeakMap<AgentSession, Held>();

  /** Records the token hash a session presented; a previous token (`retiresAt` set) closes then. */
  admit(session: AgentSession, hash: string, retiresAt: number | null): void {
    this.#held.set(session, { hash });
    if (retiresAt !== null) this.#schedule(session, retiresAt);
  }

  /**
   * Client `clientId` has a new token (hash `current`): its sessions holding any other close at
   * `at` (ms epoch), at once when `at` is past. Returns how many will close.
   */
  retire(sessions: Iterable<AgentSession>, clientId: string, current: string, at: number): number {
    let count = 0;
    for (const session of sessions) {
      const held = this.#held.get(session);
      if (session.client.id !== clientId || !held || held.hash === current) continue;
      this.#schedule(session, at);
      count++;
    }
    return count;
  }

  /** The session closed: its timer goes. */
  forget(session: AgentSession): void {
    clearTimeout(this.#held.get(session)?.timer);
    this.#held.delete(session);
  }

  #schedule(session: AgentSession, at: number): void {
    const held = this.#held.get(session);
    if (!held || (held.at !== undefined && held.at <= at)) return;
    held.at = at;
    clearTimeout(held.timer);
    const close = () => session.close(CloseCode.TOKEN_ROTATED, TOKEN_ROTATED_REASON);
    const wait = at - Date.now();
    if (wait <= 0) return close();
    held.timer = setTimeout(close, wait);
    held.timer.unref();
  }
}

/**
 * Client-token words both sides share. The relay names why it refused an agent's upgrade beside
 * the JSON body, in a header the agent reads without waiting for the body, so it can tell a
 * replaced token from an unknown one; and a token has a public id both can compute.
 */
export const REFUSAL_HEADER = 'x-arena-refusal';

/** The code of a client token that was replaced (download, rotation) and whose grace is over. */
export const TOKEN_ROTATED = 'client_token_rotated';

/**
 * A client token's public id, `tid_` + the first 12 hex digits of its SHA-256 (as the relay
 * stores it): shown in the package, by `doctor` and in admin answers, so an owner and an operator
 * can tell which token an agent holds without either showing the secret.
 */
export function tokenIdOfHash(sha256Hex: string): string {
  return `tid_${sha256Hex.slice(0, 12)}`;
}

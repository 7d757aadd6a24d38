/**
 * Relay addresses the agent would dial without TLS across a network. Over plain `ws://` the client
 * token, every prompt and every answer cross the network in clear: anyone on the path can read
 * them, act as this agent with the token, or rewrite what the relay sends. Loopback stays quiet
 * (nothing leaves the machine); everything else is said at every start and failed by `doctor`.
 */
import { isLoopbackHost } from '@arena-relay/shared';

/** What the owner can do about it, in words (the operator's side names its settings). */
export const PLAIN_TRANSPORT_FIX =
  "ask the relay's operator for an https:// address (PUBLIC_URL behind a TLS proxy, or TLS_CERT_FILE and TLS_KEY_FILE on the relay), then download the client package again";

/** The `ws://`/`http://` addresses among `urls` that are not loopback, in order. */
export function plainRelayUrls(urls: readonly string[]): string[] {
  return urls.filter((raw) => {
    const url = new URL(raw);
    return (url.protocol === 'ws:' || url.protocol === 'http:') && !isLoopbackHost(url.hostname);
  });
}

/** The sentence for one such address: what crosses the network in clear. */
export function plainTransportWarning(url: string): string {
  return `${url} is plain ws:// (no TLS): the client token, every prompt and every answer cross the network in clear`;
}

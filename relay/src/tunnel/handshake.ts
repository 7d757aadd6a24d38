/**
 * The agent's `hello` and the relay's `welcome`: what a hello must satisfy, which protocol
 * revision the two sides agree on, and what the relay answers.
 */
import {
  Breach,
  type BreachCode,
  CloseCode,
  type HelloFrame,
  PROTOCOL_VERSION,
  PROTOCOLS,
  type WelcomeFrame,
} from '@arena-relay/shared';

export type HelloVerdict =
  | { ok: true; protocol: number }
  | { ok: false; code: number; reason: string; breach?: BreachCode };

/** Checks a hello against the client its token belongs to, and picks the protocol revision. */
export function checkHello(frame: HelloFrame, clientId: string): HelloVerdict {
  if (frame.version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      code: CloseCode.PROTOCOL_ERROR,
      reason: `unsupported protocol version ${frame.version}`,
      breach: Breach.VERSION_UNSUPPORTED,
    };
  }
  if (frame.clientId !== undefined && frame.clientId !== clientId) {
    return { ok: false, code: CloseCode.POLICY, reason: 'client id does not match the token' };
  }
  return { ok: true, protocol: chooseProtocol(frame.protocols) };
}

/** The highest revision both sides speak; 1 when the agent offers none (a v1 agent). */
export function chooseProtocol(offered: readonly number[] | undefined): number {
  let chosen = PROTOCOL_VERSION;
  for (const revision of offered ?? []) {
    if (revision > chosen && PROTOCOLS.includes(revision)) chosen = revision;
  }
  return chosen;
}

export type WelcomeTerms = { sessionId: string; relayId: string } & Pick<
  WelcomeFrame,
  'heartbeatMs' | 'streamWindow' | 'maxFrameBytes'
>;

/**
 * The welcome; `protocol` is named only past v1, so a v1 agent sees the frame it always did, and
 * `updateResults` only to an agent that takes update offers.
 */
export function welcomeFrame(terms: WelcomeTerms, protocol: number, autoUpdate = false): WelcomeFrame {
  const { sessionId, heartbeatMs, streamWindow, maxFrameBytes, relayId } = terms;
  const welcome: WelcomeFrame = {
    type: 'welcome',
    sessionId,
    heartbeatMs,
    streamWindow,
    maxFrameBytes,
    relayId,
  };
  if (protocol !== PROTOCOL_VERSION) welcome.protocol = protocol;
  if (autoUpdate) welcome.updateResults = true;
  return welcome;
}

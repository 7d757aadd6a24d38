/**
 * What an agent tells the relay about itself, one session frame at a time: its `hello` (checked
 * once, then welcomed), the models it serves, whether its bridge is ready (and, after an outage,
 * the new bridge's dialect and prompt limit), its share of slots (`capacity`, echoed), and health
 * answers, and the agent's word on an update offer it did not take. The frame receiver (frame-receiver.ts) has checked each frame's shape and order;
 * stream frames never come here.
 */
import {
  Breach,
  type BreachCode,
  type BridgeReasonCode,
  CloseCode,
  type HealthFrame,
  type HelloFrame,
  type RelayFrame,
} from '@arena-relay/shared';
import type { SessionFrame } from './frame-receiver.js';
import { checkHello } from './handshake.js';

/** The session state these frames set, and what they ask of the session. */
export interface AdvertisingSession {
  readonly client: { readonly id: string };
  hello: HelloFrame | undefined;
  protocol: number;
  models: ReadonlySet<string>;
  ready: boolean;
  readyReason: string | undefined;
  readyCode: BridgeReasonCode | undefined;
  /** The agent's share of slots on this socket (`hello.slots`, then `capacity` frames). */
  slotShare: number | undefined;
  /** The version this relay last offered the agent (`update` frame); undefined: none. */
  readonly updateOffered: string | undefined;
  /** The agent's `update_result` for that offer: why it did not take it. */
  updateFailure: { version: string; outcome: 'refused' | 'failed'; reason: string } | undefined;
  send(frame: RelayFrame): void;
  fail(code: number, reason: string, breach?: BreachCode): void;
  /** The hello was accepted: the agent is welcomed. */
  welcomed(): void;
  /** What the agent can take may have changed. */
  capacityChanged(): void;
  answerHealth(frame: HealthFrame): void;
}

export function applySessionFrame(session: AdvertisingSession, frame: SessionFrame): void {
  switch (frame.type) {
    case 'hello':
      return acceptHello(session, frame);
    case 'models':
      session.models = new Set(frame.models);
      return session.capacityChanged();
    case 'ready':
      session.ready = frame.ready;
      session.readyReason = frame.reason;
      session.readyCode = frame.ready ? undefined : frame.code;
      // Another bridge may answer at the agent's address after an outage: its dialect and limit.
      if (frame.dialect !== undefined && session.hello) {
        session.hello.dialect = frame.dialect;
        session.hello.promptLimitChars = frame.promptLimitChars;
      }
      if (frame.ready) session.capacityChanged();
      return;
    case 'capacity':
      session.slotShare = frame.slots;
      // The echo tells the agent this share is in force: opens sent before it arrive first.
      session.send(frame);
      return session.capacityChanged();
    case 'health':
      return session.answerHealth(frame);
    case 'update_result':
      // Only about the offer this relay made: anything else (an agent that never said
      // autoUpdate, an older or a forged version) is not this relay's to alert on.
      if (session.hello?.autoUpdate && frame.version === session.updateOffered)
        session.updateFailure = { version: frame.version, outcome: frame.outcome, reason: frame.reason };
      return;
  }
}

function acceptHello(session: AdvertisingSession, frame: HelloFrame): void {
  if (session.hello)
    return session.fail(CloseCode.PROTOCOL_ERROR, 'hello sent twice', Breach.HANDSHAKE_REPEATED);
  const verdict = checkHello(frame, session.client.id);
  if (!verdict.ok) return session.fail(verdict.code, verdict.reason, verdict.breach);
  session.hello = frame;
  session.protocol = verdict.protocol;
  session.models = new Set(frame.models);
  session.ready = frame.ready;
  session.readyReason = frame.readyReason;
  session.slotShare = frame.slots;
  session.welcomed();
}

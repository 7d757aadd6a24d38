/**
 * The control-frame codec: one discriminated union per direction, and the parsers that turn a
 * text frame into one of them or a stable breach code. They never throw.
 */
import { z } from 'zod';
import { Breach, type BreachCode } from '../breaches.js';
import { truncateChars } from '../text.js';
import {
  capacityFrame,
  drainFrame,
  goawayFrame,
  healthFrame,
  modelsFrame,
  readyFrame,
  settingsFrame,
  updateFrame,
  updateResultFrame,
} from './control.js';
import { helloFrame, welcomeFrame } from './handshake.js';
import { fastOpen } from './open-fast.js';
import { cancelFrame, creditFrame, endFrame, errorFrame, headFrame, openFrame } from './stream.js';

/** Longest reason a parse failure reports (it goes into logs and close reasons). */
export const REASON_MAX_CHARS = 512;

/** Every control frame an agent may send. */
export const agentFrame = z.discriminatedUnion('type', [
  helloFrame,
  headFrame,
  endFrame,
  errorFrame,
  modelsFrame,
  readyFrame,
  healthFrame,
  capacityFrame,
  updateResultFrame,
]);

/** Every control frame a relay may send. */
export const relayFrame = z.discriminatedUnion('type', [
  welcomeFrame,
  openFrame,
  cancelFrame,
  creditFrame,
  drainFrame,
  healthFrame,
  goawayFrame,
  capacityFrame,
  updateFrame,
  settingsFrame,
]);

export type AgentFrame = z.infer<typeof agentFrame>;
export type RelayFrame = z.infer<typeof relayFrame>;

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; code: BreachCode; reason: string };

/** `fast`: a hand-written check for a common shape, its frame or undefined to ask the schema. */
function parseWith<T>(
  schema: z.ZodType<T>,
  text: string,
  fast?: (raw: unknown) => T | undefined,
): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: Breach.NOT_JSON, reason: 'control frame is not JSON' };
  }
  const quick = fast?.(raw);
  if (quick !== undefined) return { ok: true, frame: quick };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0];
  // The path holds keys the peer chose (header names): bounded before the reason is logged.
  const where = issue?.path.length ? ` at ${truncateChars(issue.path.join('.'), 128)}` : '';
  return {
    ok: false,
    code: Breach.INVALID_FRAME,
    reason: truncateChars(`invalid control frame${where}: ${issue?.message ?? 'unknown'}`, REASON_MAX_CHARS),
  };
}

/** Parses a text frame received from an agent. Never throws. */
export const parseAgentFrame = (text: string): ParseResult<AgentFrame> => parseWith(agentFrame, text);

/** Parses a text frame received from a relay (an `open` of the common shape without zod). Never throws. */
export const parseRelayFrame = (text: string): ParseResult<RelayFrame> =>
  parseWith(relayFrame, text, fastOpen);

/**
 * Messages between relays for forwarded streams, carried over Redis pub/sub on one channel per
 * relay. Binary: `[u8 kind]` then, for DATA, `[u32 ref][payload]` (the agent's bytes, copied
 * once); for OPEN, `[u32 n][n bytes of JSON][request body]` (the consumer's body bytes as they
 * came, never re-encoded); for the others a JSON body checked by zod. `ref` is the stream number
 * at the relay that holds the consumer (the origin). Every message is bounded before it is
 * parsed: a JSON part over ENVELOPE_JSON_LIMIT, or an OPEN's body over what any relay accepts
 * from a consumer, is dropped like any malformed message. BATCH carries the messages one relay
 * sent another in one event-loop turn (cluster/outbox.ts): `[u32 length][message]` each, in order;
 * it is taken whole or dropped whole. A relay sends BATCH only to a relay that said it takes them
 * (its agents' adverts, or its OPEN, say `batch: true`); to any other, one message per PUBLISH.
 */
import { MAX_REQUEST_BODY_BYTES, parseJsonAs, streamErrorCode } from '@arena-relay/shared';
import { z } from 'zod';
import type { OpenRequest } from '../routing/routable-agent.js';
import { requestModel } from '../tunnel/open-encoder.js';

/** Longest JSON part of a message (a control body, an OPEN's head), in bytes: the relay's own are far smaller. */
export const ENVELOPE_JSON_LIMIT = 64 * 1024;
/** Largest request body an OPEN may carry, in bytes: no relay accepts a larger one from a consumer. */
export const ENVELOPE_BODY_LIMIT = MAX_REQUEST_BODY_BYTES;

export const Kind = {
  OPEN: 1,
  ACK: 2,
  HEAD: 3,
  DATA: 4,
  END: 5,
  ERROR: 6,
  CANCEL: 7,
  CREDIT: 8,
  BATCH: 9,
} as const;

/** Largest BATCH on the wire, in bytes: a sender closes a batch before it grows past this. */
export const ENVELOPE_BATCH_LIMIT = 256 * 1024;
/** Most messages in one BATCH (a turn's DATA of a few hundred streams fits many times over). */
export const ENVELOPE_BATCH_MESSAGES = 4096;
/** Bytes a member adds to a BATCH: its length. */
export const BATCH_MEMBER_HEADER = 4;

const ref = z.number().int().min(1).max(0xffff_ffff);
const from = z.string().min(1).max(64);

export const openMessage = z.object({
  from,
  ref,
  session: z.string().min(1).max(64),
  /** The request without its body, which follows the JSON as bytes. */
  request: z.object({
    method: z.enum(['GET', 'POST']),
    path: z.string().startsWith('/').max(2048),
    headers: z.record(z.string(), z.string()),
    /** The model the body names, for the agent's logs (the body is not parsed again). */
    model: z.string().max(256).optional(),
  }),
  /** The sender takes BATCH envelopes back (absent: a relay of an older release, which drops them). */
  batch: z.literal(true).optional(),
});
export type OpenMessage = z.infer<typeof openMessage>;

/** The request without its body (which travels as bytes), and the model it names. */
export function requestHead(request: OpenRequest): OpenMessage['request'] {
  const head: OpenMessage['request'] = {
    method: request.method,
    path: request.path,
    headers: request.headers,
  };
  const model = requestModel(request);
  if (model !== undefined) head.model = model;
  return head;
}
export const ackMessage = z.object({ ref });
export const headMessage = z.object({
  ref,
  status: z.number().int().min(200).max(599),
  headers: z.record(z.string(), z.string()),
});
export const endMessage = z.object({ ref });
export const errorMessage = z.object({
  ref,
  code: z.union([streamErrorCode, z.literal('agent_gone')]),
  message: z.string().max(8192),
  status: z.number().int().optional(),
});
export const cancelMessage = z.object({ from, ref, reason: z.string().max(512) });
export const creditMessage = z.object({ from, ref, bytes: z.number().int().positive() });

const schemas = {
  [Kind.ACK]: ackMessage,
  [Kind.HEAD]: headMessage,
  [Kind.END]: endMessage,
  [Kind.ERROR]: errorMessage,
  [Kind.CANCEL]: cancelMessage,
  [Kind.CREDIT]: creditMessage,
} as const;

type ControlKind = keyof typeof schemas;
export type ControlMessage = {
  [K in ControlKind]: { kind: K; body: z.infer<(typeof schemas)[K]> };
}[ControlKind];
export type OpenDecoded = { kind: typeof Kind.OPEN; body: OpenMessage; bytes: Buffer | undefined };
export type Decoded = ControlMessage | OpenDecoded | { kind: typeof Kind.DATA; ref: number; payload: Buffer };

export function encodeControl<K extends ControlKind>(kind: K, body: z.infer<(typeof schemas)[K]>): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const out = Buffer.allocUnsafe(1 + json.length);
  out[0] = kind;
  json.copy(out, 1);
  return out;
}

export function encodeData(streamRef: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(DATA_MESSAGE_HEADER + payload.length);
  out[0] = Kind.DATA;
  out.writeUInt32BE(streamRef, 1);
  payload.copy(out, DATA_MESSAGE_HEADER);
  return out;
}

/** OPEN: the request's JSON head, then its body bytes (`bytes`, copied once into the message). */
export function encodeOpen(body: OpenMessage, bytes: Buffer | undefined): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const out = Buffer.allocUnsafe(5 + json.length + (bytes?.length ?? 0));
  out[0] = Kind.OPEN;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  bytes?.copy(out, 5 + json.length);
  return out;
}

/** Bytes a DATA message puts before its payload. */
export const DATA_MESSAGE_HEADER = 5;

/**
 * Joins messages (none an OPEN or a BATCH, at least two) into one BATCH; `bytes`: their summed
 * length as messages. Where `dataRefs[i]` is set, `messages[i]` is the bare payload of a DATA for
 * that stream, its header written here (so a payload is copied once, into the batch). The caller
 * keeps the batch within ENVELOPE_BATCH_LIMIT and ENVELOPE_BATCH_MESSAGES.
 */
export function encodeBatch(
  messages: readonly Buffer[],
  bytes: number,
  dataRefs?: readonly number[],
): Buffer {
  const out = Buffer.allocUnsafe(1 + bytes + BATCH_MEMBER_HEADER * messages.length);
  out[0] = Kind.BATCH;
  let at = 1;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const ref = dataRefs?.[i] ?? 0;
    const length = ref > 0 ? DATA_MESSAGE_HEADER + message.length : message.length;
    out.writeUInt32BE(length, at);
    at += BATCH_MEMBER_HEADER;
    if (ref > 0) {
      out[at] = Kind.DATA;
      out.writeUInt32BE(ref, at + 1);
      at += DATA_MESSAGE_HEADER;
    }
    message.copy(out, at);
    at += message.length;
  }
  return out;
}

/**
 * Decodes a BATCH into its messages, in order (each a view into `message`): undefined, and
 * nothing of it acted on, when it is over a cap, its lengths do not tile it exactly, or any
 * member is malformed, an OPEN or a BATCH.
 */
export function decodeBatch(message: Buffer): Decoded[] | undefined {
  if (message[0] !== Kind.BATCH || message.length > ENVELOPE_BATCH_LIMIT) return undefined;
  const members: Decoded[] = [];
  let at = 1;
  while (at < message.length) {
    if (members.length === ENVELOPE_BATCH_MESSAGES || at + BATCH_MEMBER_HEADER > message.length)
      return undefined;
    const end = at + BATCH_MEMBER_HEADER + message.readUInt32BE(at);
    if (end > message.length) return undefined;
    const kind = message[at + BATCH_MEMBER_HEADER];
    if (kind === Kind.OPEN || kind === Kind.BATCH) return undefined;
    const member = decode(message.subarray(at + BATCH_MEMBER_HEADER, end));
    if (!member) return undefined;
    members.push(member);
    at = end;
  }
  return members.length > 0 ? members : undefined;
}

/** Decodes a message; undefined when it is malformed (the caller drops it). */
export function decode(message: Buffer): Decoded | undefined {
  const kind = message[0];
  if (kind === Kind.DATA) {
    if (message.length < 5) return undefined;
    return { kind, ref: message.readUInt32BE(1), payload: message.subarray(5) };
  }
  if (kind === Kind.OPEN) return decodeOpen(message);
  const schema = kind === undefined ? undefined : schemas[kind as ControlKind];
  if (!schema) return undefined;
  const body = parseJson(schema, message.subarray(1));
  return body === undefined ? undefined : ({ kind, body } as ControlMessage);
}

function decodeOpen(message: Buffer): OpenDecoded | undefined {
  if (message.length < 5) return undefined;
  const head = message.readUInt32BE(1);
  const end = 5 + head;
  if (end > message.length || head > ENVELOPE_JSON_LIMIT) return undefined;
  if (message.length - end > ENVELOPE_BODY_LIMIT) return undefined;
  const body = parseJson(openMessage, message.subarray(5, end));
  if (body === undefined) return undefined;
  return { kind: Kind.OPEN, body, bytes: end < message.length ? message.subarray(end) : undefined };
}

function parseJson<T>(schema: z.ZodType<T>, bytes: Buffer): T | undefined {
  if (bytes.length > ENVELOPE_JSON_LIMIT) return undefined;
  return parseJsonAs(schema, bytes.toString('utf8'));
}

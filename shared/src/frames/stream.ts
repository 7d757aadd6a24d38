/**
 * Stream frames: the relay opens a stream (`open`), the agent answers it (`head`, then `end` or
 * `error`), and the relay cancels it or grants credit. The payload travels in data frames
 * (data-frame.ts), never in these.
 */
import { z } from 'zod';
import { failureScope, peerReasonCode } from '../bridge-reasons.js';
import { MAX_OPEN_FRAME_BYTES } from '../version.js';

/** Stream ids are assigned by the relay, per socket, as unsigned 32-bit integers (0 is never used). */
export const streamId = z.number().int().min(1).max(0xffff_ffff);

const headers = z.record(z.string(), z.string());

/**
 * Stable error codes carried by `error` frames. The relay maps them to HTTP statuses and decides
 * whether a failure before the first byte may be retried on another agent.
 */
export const streamErrorCode = z.enum([
  'busy', // agent at max_concurrency or draining
  'upstream_unavailable', // bridge unreachable or answering 503 (browser tab gone, Cloudflare check)
  'upstream_error', // bridge answered 5xx, or signalled an in-band "[LMArena Bridge Error]"
  'upstream_rejected', // bridge answered 4xx: the request itself is at fault, retrying will not help
  'upstream_timeout', // bridge silent for longer than the agent's upstream timeout
  'cancelled', // the relay cancelled the stream
  'protocol_error', // a frame broke the protocol
  'internal', // anything else
]);
export type StreamErrorCode = z.infer<typeof streamErrorCode>;

/**
 * Opens a stream. v1: the request body as a JSON value in `body`. v2: no `body`; `bodyBytes`
 * says how many bytes of it follow in BODY data frames (absent: the request has none), and
 * `model` names the model the relay routed.
 */
export const openFrame = z.object({
  type: z.literal('open'),
  stream: streamId,
  method: z.enum(['GET', 'POST']),
  path: z.string().startsWith('/').max(2048),
  /** Absent when the agent's hello said `openHeaders: false` (nobody reads them there). */
  headers: headers.optional(),
  body: z.unknown().optional(),
  bodyBytes: z.number().int().min(1).max(MAX_OPEN_FRAME_BYTES).optional(),
  model: z.string().max(256).optional(),
  /**
   * The body names another model than `model` (an alias or a fallback was routed): the agent
   * writes `model` into the body's JSON object before it goes to the bridge. Sent only with
   * `bodyBytes` and `model`, and only to an agent whose hello said `routedModel: true`.
   */
  rerouted: z.literal(true).optional(),
});

export const headFrame = z.object({
  type: z.literal('head'),
  stream: streamId,
  /** A final status: 1xx answers (101 above all) would corrupt the consumer's connection. */
  status: z.number().int().min(200).max(599),
  headers,
});

/** The stream ended well. (v1 agents also sent `usage`: stripped, the relay meters by itself.) */
export const endFrame = z.object({
  type: z.literal('end'),
  stream: streamId,
});

export const errorFrame = z.object({
  type: z.literal('error'),
  stream: streamId,
  code: streamErrorCode,
  message: z.string().max(8192),
  /** The upstream HTTP status, when the failure came from the bridge. */
  status: z.number().int().min(100).max(599).optional(),
  /** Who the failure is on (request, model, bridge); absent from older agents. */
  scope: failureScope.optional().catch(undefined),
  /** For a bridge-wide failure: why the bridge cannot serve. */
  reason: peerReasonCode.optional(),
  /** How long LMArena asked to wait (its 429 retry-after), in ms. */
  retryAfterMs: z.number().int().min(0).max(86_400_000).optional().catch(undefined),
});

export const cancelFrame = z.object({
  type: z.literal('cancel'),
  stream: streamId,
  reason: z.string().max(512).optional(),
});

/** Grants the agent `bytes` more of payload on `stream`. */
export const creditFrame = z.object({
  type: z.literal('credit'),
  stream: streamId,
  bytes: z.number().int().positive().max(0x7fff_ffff),
});

export type OpenFrame = z.infer<typeof openFrame>;
export type HeadFrame = z.infer<typeof headFrame>;
export type EndFrame = z.infer<typeof endFrame>;
export type ErrorFrame = z.infer<typeof errorFrame>;
export type CancelFrame = z.infer<typeof cancelFrame>;
export type CreditFrame = z.infer<typeof creditFrame>;

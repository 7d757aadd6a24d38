/**
 * Control frames: JSON text frames exchanged on the agent socket, one zod discriminated union.
 * Types are inferred from the schemas; nobody hand-writes a second interface.
 */
import { z } from 'zod';
import { Breach, type BreachCode } from './breaches.js';
import { failureScope, peerReasonCode } from './bridge-reasons.js';
import { LOG_LEVELS } from './config.js';
import { keyChain, releaseFields, releaseSignature } from './release.js';
import { truncateChars } from './text.js';
import { MAX_OPEN_FRAME_BYTES } from './version.js';

/** Longest reason a parse failure reports (it goes into logs and close reasons). */
export const REASON_MAX_CHARS = 512;

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

export const helloFrame = z.object({
  type: z.literal('hello'),
  version: z.number().int(),
  /** Optional claim; when present the relay checks it against the client the token belongs to. */
  clientId: z.string().min(1).max(128).optional(),
  agentVersion: z.string().max(64),
  /**
   * Random id of the agent process, kept across its reconnects: a new session with the same client
   * and instance replaces the old one, which takes no new stream and closes once its streams end
   * (a half-open one is cleared by the heartbeat).
   */
  instanceId: z.string().min(8).max(64).optional(),
  capabilities: z.array(z.string().max(64)).max(64),
  models: z.array(z.string().min(1).max(256)).max(2048),
  maxConcurrency: z.number().int().min(1).max(1024),
  ready: z.boolean(),
  readyReason: z.string().max(512).optional(),
  /**
   * Slots of `maxConcurrency` this socket may use at first, when the agent shares them among
   * sockets to several relays (0: none until a `capacity` frame grants some). Absent: all of them.
   */
  slots: z.number().int().min(0).max(1024).optional(),
  /** The agent updates itself when offered a new version (`update` frames are sent only then). */
  autoUpdate: z.boolean().optional(),
  /** The agent applies `settings` frames (sent only then). */
  pushedSettings: z.boolean().optional(),
  /**
   * Protocol revisions the agent speaks besides `version` (e.g. `[1, 2]`). Absent: only 1. The
   * relay picks the highest it speaks too and names it in `welcome.protocol`.
   */
  protocols: z.array(z.number().int().min(1).max(255)).max(16).optional(),
  /**
   * The bridge dialect the agent speaks to (`lmarenabridge-v2`, `lmarenabridge-cw`, `webai2api`,
   * `openai`), found by `bridge: auto` or set by the owner. Absent: an older agent (v2.7.6 assumed).
   */
  dialect: z.string().min(1).max(64).optional(),
  /**
   * The longest prompt the bridge accepts, in characters (CloudWaddie's: 113 567). The relay refuses
   * a longer one itself with a 400. Absent: no known limit.
   */
  promptLimitChars: z.number().int().min(1).max(1_000_000_000).optional(),
  /**
   * False: the agent does not read `open.headers`, and the relay leaves them out. Absent: an
   * older agent, whose schema requires them; they are sent.
   */
  openHeaders: z.boolean().optional(),
});

export const welcomeFrame = z.object({
  type: z.literal('welcome'),
  sessionId: z.string(),
  heartbeatMs: z.number().int().positive(),
  /** Initial credit, in bytes, that each new stream starts with. */
  streamWindow: z.number().int().positive(),
  maxFrameBytes: z.number().int().positive(),
  /** The relay's id, so an agent with sockets to several relays can tell them apart. */
  relayId: z.string().min(1).max(64).optional(),
  /** The protocol revision in force on this socket, chosen from `hello.protocols`. Absent: 1. */
  protocol: z.number().int().min(1).max(255).optional(),
  /**
   * The relay takes `update_result` frames (said only to an agent whose hello said `autoUpdate`).
   * Absent: an older relay, which would close the socket on one; the agent sends none.
   */
  updateResults: z.boolean().optional(),
});

/**
 * Opens a stream. v1: the request body as a JSON value in `body`. v2: no `body`; `bodyBytes`
 * says how many bytes of it follow in BODY data frames (absent: the request has none), and
 * `model` names the model for the agent's logs.
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

/** Relay → agent: take no new streams; finish the ones in flight. */
export const drainFrame = z.object({
  type: z.literal('drain'),
  reason: z.string().max(512).optional(),
});

/**
 * Relay → agent: this relay is shutting down. It takes no new streams on this socket from now on;
 * those in flight may run for up to `graceMs`, then the socket closes. The agent dials another
 * relay at once, before this socket closes.
 */
export const goawayFrame = z.object({
  type: z.literal('goaway'),
  graceMs: z.number().int().nonnegative().max(86_400_000),
  reason: z.string().max(512).optional(),
});

/**
 * Agent → relay: the slots this socket may use now (an agent shares `maxConcurrency` among its
 * sockets to several relays). The relay echoes the frame once it holds itself to `slots`, so the
 * agent knows when a lowered share is in force: opens sent before the echo arrive before it.
 * `seq` grows by one per frame sent on the socket.
 */
export const capacityFrame = z.object({
  type: z.literal('capacity'),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  slots: z.number().int().min(0).max(1024),
});

/** Agent → relay: the model list changed. */
export const modelsFrame = z.object({
  type: z.literal('models'),
  models: helloFrame.shape.models,
});

/**
 * Relay → agent (only to an agent whose hello said `autoUpdate`): the signed agent release this
 * relay ships, right after `welcome` and whenever the client's update policy changes. The agent
 * checks `signature` (over `releaseStatement`, release.ts) against its pinned release key, after
 * `keyChain`'s rotations, before it fetches `GET /agent/bundle` on the relay's origin, and keeps
 * the download only with this size and SHA-256. `signature` is optional only so that an agent
 * refuses an older relay's unsigned offer in words instead of dropping the connection.
 */
export const updateFrame = z.object({
  type: z.literal('update'),
  ...releaseFields,
  signature: releaseSignature.optional(),
  keyChain: keyChain.optional(),
});

/**
 * Relay → agent (only to an agent whose hello said `pushedSettings`): the operator's settings for
 * this client, right after `welcome` and whenever they change. Absent fields are not set by the
 * operator; the agent's own explicit config wins over every one of them.
 */
export const settingsFrame = z.object({
  type: z.literal('settings'),
  maxConcurrency: z.number().int().min(1).max(1024).optional(),
  models: z
    .object({
      /** Offer only these of the bridge's models. */
      only: helloFrame.shape.models.optional(),
      /** Never offer these. */
      hide: helloFrame.shape.models.optional(),
    })
    .optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
});

/** Agent → relay: the bridge became ready / not ready. */
export const readyFrame = z.object({
  type: z.literal('ready'),
  ready: z.boolean(),
  reason: z.string().max(512).optional(),
  /** Why not ready, as a stable code (`reason` is the bridge's own words); absent from older agents. */
  code: peerReasonCode.optional(),
  /** When the bridge said how long to wait (LMArena's 429 retry-after), in ms. */
  retryAfterMs: z.number().int().min(0).max(86_400_000).optional().catch(undefined),
  /**
   * The bridge dialect now (as in `hello`): `bridge: auto` finds it again when the bridge comes
   * back after an outage, and another bridge may answer at the same address. Absent: unchanged.
   */
  dialect: z.string().min(1).max(64).optional().catch(undefined),
  /** The prompt limit of that dialect, in characters (as in `hello`); absent with `dialect`: none. */
  promptLimitChars: z.number().int().min(1).max(1_000_000_000).optional().catch(undefined),
});

/**
 * Health round trip. The relay sends `{type:'health', id}`; the agent answers with the same id and
 * the result of probing its bridge.
 */
export const healthFrame = z.object({
  type: z.literal('health'),
  id: z.string().min(1).max(64),
  bridge: z
    .object({
      ok: z.boolean(),
      status: z.number().int().optional(),
      latencyMs: z.number().nonnegative(),
      reason: z.string().max(512).optional(),
    })
    .optional(),
});

/**
 * Agent → relay (only where `welcome.updateResults`): an `update` offer this agent did not take,
 * and why in plain words — refused before download (unsigned, bad signature, no pinned key) or
 * failed after (bundle mismatch, the new process did not connect). Sent again when the relay
 * offers the same release again, so a relay the agent redials still knows. Nothing is said of an
 * update that worked: the agent then says hello with the new `agentVersion`.
 */
export const updateResultFrame = z.object({
  type: z.literal('update_result'),
  version: z.string().min(1).max(64),
  outcome: z.enum(['refused', 'failed']),
  reason: z.string().max(512),
});

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

export type HelloFrame = z.infer<typeof helloFrame>;
export type WelcomeFrame = z.infer<typeof welcomeFrame>;
export type OpenFrame = z.infer<typeof openFrame>;
export type HeadFrame = z.infer<typeof headFrame>;
export type EndFrame = z.infer<typeof endFrame>;
export type ErrorFrame = z.infer<typeof errorFrame>;
export type CancelFrame = z.infer<typeof cancelFrame>;
export type CreditFrame = z.infer<typeof creditFrame>;
export type DrainFrame = z.infer<typeof drainFrame>;
export type ModelsFrame = z.infer<typeof modelsFrame>;
export type ReadyFrame = z.infer<typeof readyFrame>;
export type HealthFrame = z.infer<typeof healthFrame>;
export type GoawayFrame = z.infer<typeof goawayFrame>;
export type CapacityFrame = z.infer<typeof capacityFrame>;
export type UpdateFrame = z.infer<typeof updateFrame>;
export type UpdateResultFrame = z.infer<typeof updateResultFrame>;
export type SettingsFrame = z.infer<typeof settingsFrame>;
export type AgentFrame = z.infer<typeof agentFrame>;
export type RelayFrame = z.infer<typeof relayFrame>;

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; code: BreachCode; reason: string };

function parseWith<T>(schema: z.ZodType<T>, text: string): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: Breach.NOT_JSON, reason: 'control frame is not JSON' };
  }
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

/** Parses a text frame received from a relay. Never throws. */
export const parseRelayFrame = (text: string): ParseResult<RelayFrame> => parseWith(relayFrame, text);

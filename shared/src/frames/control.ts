/**
 * Session control frames, outside any stream: draining and going away, slot shares, the model
 * list and readiness, health round trips, and what the relay pushes (updates, settings).
 */
import { z } from 'zod';
import { peerReasonCode } from '../bridge-reasons.js';
import { LOG_LEVELS } from '../config.js';
import { keyChain, releaseFields, releaseSignature } from '../release.js';
import { helloFrame } from './handshake.js';

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

export type DrainFrame = z.infer<typeof drainFrame>;
export type GoawayFrame = z.infer<typeof goawayFrame>;
export type CapacityFrame = z.infer<typeof capacityFrame>;
export type ModelsFrame = z.infer<typeof modelsFrame>;
export type UpdateFrame = z.infer<typeof updateFrame>;
export type SettingsFrame = z.infer<typeof settingsFrame>;
export type ReadyFrame = z.infer<typeof readyFrame>;
export type HealthFrame = z.infer<typeof healthFrame>;
export type UpdateResultFrame = z.infer<typeof updateResultFrame>;

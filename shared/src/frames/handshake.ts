/**
 * The handshake: the agent's `hello` (who it is, what it serves, what it can do) and the relay's
 * `welcome` (the session's limits and protocol revision). Both open every socket, once.
 */
import { z } from 'zod';

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
  /**
   * True: the agent writes `open.model` into a body the relay flags `rerouted` (protocol 2), so
   * the relay sends the consumer's body bytes untouched even when it routed another model than
   * the body names. Absent: an older agent; the relay writes the routed model into the body.
   */
  routedModel: z.boolean().optional(),
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

export type HelloFrame = z.infer<typeof helloFrame>;
export type WelcomeFrame = z.infer<typeof welcomeFrame>;

/** Protocol constants shared by relay and agent. Bump PROTOCOL_VERSION on any incompatible frame change. */

/**
 * Wire protocol version carried in `hello.version`; the relay refuses agents that speak another
 * one. It stays 1: later revisions are negotiated on top of it (`hello.protocols`, answered by
 * `welcome.protocol`), so an agent that offers them still talks to a relay that knows only v1.
 */
export const PROTOCOL_VERSION = 1;

/**
 * Revision 2: `open` carries `bodyBytes` (and `model`) instead of `body`, and the request body
 * follows as BODY data frames, the consumer's bytes as they came.
 */
export const PROTOCOL_V2 = 2;

/** The protocol revisions this code speaks, offered in `hello.protocols`. */
export const PROTOCOLS: readonly number[] = Object.freeze([PROTOCOL_VERSION, PROTOCOL_V2]);

/** Largest payload of one BODY data frame the relay sends (a bigger body goes as several). */
export const BODY_FRAME_BYTES = 1024 * 1024;

/** WebSocket subprotocol the agent must offer on `GET /agent/connect`. */
export const SUBPROTOCOL = 'arena-relay.v1';

/** Path of the agent's WebSocket endpoint on the relay. */
export const AGENT_CONNECT_PATH = '/agent/connect';
/** Where a self-updating agent fetches the bundle the relay ships (client token as Bearer). */
export const AGENT_BUNDLE_PATH = '/agent/bundle';

/** Default per-stream flow-control window, in bytes (256 KiB). */
export const DEFAULT_STREAM_WINDOW = 256 * 1024;

/** Default heartbeat (ping) interval, in milliseconds. A peer silent for two intervals is dead. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Default largest WebSocket message either side accepts, in bytes (1 MiB + data-frame header). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024 + 16;

/**
 * Largest message an agent accepts from the relay, and the largest request body it takes. A v1
 * `open` carries the consumer's whole request body, and a conversation with an image attached as
 * a data URL weighs megabytes; a v2 body (BODY frames) is held to the same total.
 */
export const MAX_OPEN_FRAME_BYTES = 32 * 1024 * 1024;

/** Largest request body a relay may be set to accept (`GATEWAY_MAX_BODY_BYTES`): what fits in an `open`. */
export const MAX_REQUEST_BODY_BYTES = MAX_OPEN_FRAME_BYTES - 64 * 1024;

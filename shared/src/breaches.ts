/**
 * Stable codes for breaches of the tunnel protocol, by either peer, as ws names its errors
 * `WS_ERR_*`: the words of a close reason or an `error` frame's message may change and quote what
 * the peer sent; the code does not, so logs, tests and dashboards match on it. The wire keeps the
 * words (close 1002 with a reason, or an `error` frame `protocol_error` for one stream); the code
 * travels in each side's log line about the breach.
 */
export const Breach = {
  /** A text frame that is not JSON. */
  NOT_JSON: 'TUNNEL_ERR_NOT_JSON',
  /** A text frame that fails its schema (unknown type, bad field). */
  INVALID_FRAME: 'TUNNEL_ERR_INVALID_FRAME',
  /** A frame before the handshake's (relay: `hello` first; agent: `welcome` first). */
  HANDSHAKE_MISSING: 'TUNNEL_ERR_HANDSHAKE_MISSING',
  /** A second `hello` or `welcome`. */
  HANDSHAKE_REPEATED: 'TUNNEL_ERR_HANDSHAKE_REPEATED',
  /** No `hello` / `welcome` within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 'TUNNEL_ERR_HANDSHAKE_TIMEOUT',
  /** A `hello` naming a protocol version this side does not speak. */
  VERSION_UNSUPPORTED: 'TUNNEL_ERR_VERSION_UNSUPPORTED',
  /** The peer went silent past its heartbeat allowance. */
  PEER_SILENT: 'TUNNEL_ERR_PEER_SILENT',
  /** A binary frame too short or of an unknown kind. */
  MALFORMED_DATA: 'TUNNEL_ERR_MALFORMED_DATA',
  /** A binary frame of a kind that does not travel this way (or any binary frame on protocol 1). */
  WRONG_DATA_KIND: 'TUNNEL_ERR_WRONG_DATA_KIND',
  /** A frame for a stream id the relay never opened on this socket. */
  UNKNOWN_STREAM: 'TUNNEL_ERR_UNKNOWN_STREAM',
  /** An `open` for a stream id that is still live. */
  STREAM_REOPENED: 'TUNNEL_ERR_STREAM_REOPENED',
  /** Stream frames out of order (data before head, a second head). */
  STREAM_ORDER: 'TUNNEL_ERR_STREAM_ORDER',
  /** More data than the stream's credit allows. */
  CREDIT_EXCEEDED: 'TUNNEL_ERR_CREDIT_EXCEEDED',
  /**
   * An `open` whose body announcement breaks the socket's protocol (bodyBytes on v1, body and
   * bodyBytes, `rerouted` without bodyBytes and model).
   */
  BODY_ANNOUNCEMENT: 'TUNNEL_ERR_BODY_ANNOUNCEMENT',
  /** A body flagged `rerouted` that is not a JSON object: the agent cannot write the model into it. */
  ROUTED_BODY: 'TUNNEL_ERR_ROUTED_BODY',
  /** BODY bytes for a stream that expects none (more), or past the announced length. */
  BODY_OVERRUN: 'TUNNEL_ERR_BODY_OVERRUN',
  /** An `open` for a request outside the agent's allow-list (method, path). */
  REQUEST_NOT_ALLOWED: 'TUNNEL_ERR_REQUEST_NOT_ALLOWED',
} as const;
export type BreachCode = (typeof Breach)[keyof typeof Breach];

/** A breach as the side that saw it reports it: the stable code and the words for the peer. */
export type ProtocolBreach = { code: BreachCode; reason: string };

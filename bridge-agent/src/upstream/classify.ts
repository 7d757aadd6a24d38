/**
 * Maps what the bridge did (an HTTP status, an in-band error message, a network failure) to the
 * stable stream error codes of the wire protocol, keeping the bridge's own message text. The one
 * place that decides who a failure is on (request, model, bridge) and why a bridge cannot serve.
 */
import type { Readable } from 'node:stream';
import {
  type BridgeReasonCode,
  type FailureScope,
  type StreamErrorCode,
  truncateChars,
} from '@arena-relay/shared';
import { inEnglish } from './bridge-words.js';

/** An upstream failure as it goes into an `error` frame (see `errorFrame` in shared/src/frames/stream.ts). */
export type UpstreamFailure = {
  code: StreamErrorCode;
  message: string;
  status?: number;
  /** Who the failure is on: the request, the model, or the whole bridge. */
  scope?: FailureScope;
  /** For a bridge-wide failure: why the bridge cannot serve. */
  reason?: BridgeReasonCode;
  /** How long the bridge (LMArena) asked to wait, in ms. */
  retryAfterMs?: number;
};

/**
 * A failure of the whole bridge, not of one model or request: the relay benches the agent for
 * `reason` (for `retryAfterMs` when the bridge said how long) and tries another.
 */
export function bridgeWide(
  reason: BridgeReasonCode,
  status: number,
  message: string,
  retryAfterMs?: number,
): UpstreamFailure {
  const failure: UpstreamFailure = { code: 'upstream_unavailable', status, scope: 'bridge', reason, message };
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return failure;
}

/** Largest error body read from the bridge, in bytes. */
export const ERROR_BODY_CAP = 64 * 1024;

/** Reads at most `cap` bytes of an error body, then lets go of the rest. Never rejects. */
export async function readCapped(body: Readable, cap = ERROR_BODY_CAP): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      chunks.push(size + buffer.length > cap ? buffer.subarray(0, cap - size) : buffer);
      size += buffer.length;
      if (size >= cap) break;
    }
  } catch {
    // A body that breaks off still tells us what arrived before.
  }
  body.destroy();
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The bridge's message in an error body: FastAPI's `{"detail": …}`, the OpenAI-like
 * `{"error": {"message": …}}`, Ollama's `{"error": "…"}`, or the text itself.
 */
export function errorDetail(text: string): string {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null) {
      const { detail, error } = json as { detail?: unknown; error?: { message?: unknown } | string };
      if (typeof detail === 'string') return detail;
      if (detail !== undefined) return JSON.stringify(detail);
      // Ollama writes `{"error": "…"}`.
      if (typeof error === 'string') return error;
      if (typeof error?.message === 'string') return error.message;
    }
  } catch {
    // Not JSON: the raw text is the best message there is.
  }
  return text.trim();
}

/** What a 503 from the bridge means, from its `detail`. */
function unavailableReason(detail: string): BridgeReasonCode {
  return findReason(detail) ?? 'bridge_error';
}

/** A 4xx/5xx `detail` that names the bridge's own setup (its session ids), not the request. */
const MISCONFIGURED = /会话ID或消息ID无效|session id|message id/i;
/** "model X has no session ids of its own": the bridge cannot serve that one model. */
const MODEL_NOT_MAPPED = /没有配置独立的会话ID/;

/**
 * Classifies a non-2xx answer of the bridge. `retryAfter` is its `retry-after` header, if any.
 * A `bridge_error` body (`[LMArena Bridge Error]: …`) is classified by its message, exactly as the
 * same message inside a stream is: one failure, one status.
 */
export function classifyStatus(status: number, detail: string, retryAfter?: string): UpstreamFailure {
  const said = detail ? `: ${inEnglish(detail)}` : '';
  if (status === 401 || status === 403) {
    return bridgeWide(
      'bridge_auth_failed',
      status,
      truncateChars(
        `the bridge rejected the agent's key (${status})${said}; check upstream_api_key / AGENT_UPSTREAM_API_KEY`,
        8192,
      ),
    );
  }
  if (detail.startsWith(BRIDGE_ERROR_LABEL)) {
    return { ...classifyBridgeMessage(detail.slice(BRIDGE_ERROR_LABEL.length)), status };
  }
  const message = truncateChars(`bridge answered ${status}${said}`, 8192);
  if (status === 503) return bridgeWide(unavailableReason(detail), status, message);
  if (status === 429) {
    return bridgeWide(
      'upstream_rate_limited',
      status,
      message,
      retryAfterMs(retryAfter) ?? retryAfterInText(detail),
    );
  }
  if (MISCONFIGURED.test(detail)) return bridgeWide('bridge_misconfigured', status, message);
  if (MODEL_NOT_MAPPED.test(detail)) return { code: 'upstream_error', status, scope: 'model', message };
  if (status >= 500) return { code: 'upstream_error', status, scope: 'model', message };
  return { code: 'upstream_rejected', status, scope: 'request', message };
}

/** The label of the bridge's error messages (`{"error": {"message": "[LMArena Bridge Error]: …"}}`). */
export const BRIDGE_ERROR_LABEL = '[LMArena Bridge Error]: ';

/**
 * One row per kind of message LMArenaBridge (and its userscript, relaying LMArena) writes after
 * "[LMArena Bridge Error]: ", first match wins. Bridge-wide reasons take the bridge out of
 * routing; the rest are the request's or the model's.
 */
const BRIDGE_WIDE: ReadonlyArray<[RegExp, BridgeReasonCode]> = [
  [/人机验证|cloudflare|just a moment|cf-chl|challenge-platform/i, 'cloudflare_challenge'],
  [
    /油猴脚本客户端未连接|browser disconnected|userscript|browser client not connected/i,
    'userscript_disconnected',
  ],
  [/recaptcha/i, 'recaptcha_failed'],
  [
    /access to (this |the )?evaluation session|状态: 401|session (has )?expired|unauthori[sz]ed/i,
    'session_expired',
  ],
  [/状态: 429|too many requests|rate.?limit/i, 'upstream_rate_limited'],
];

/** The bridge-wide reason a bridge's text names, if any. */
export function findReason(text: string): BridgeReasonCode | undefined {
  return BRIDGE_WIDE.find(([pattern]) => pattern.test(text))?.[1];
}

const ATTACHMENT_TOO_LARGE = /附件大小超过了|too large|状态: 413/i;
const TIMED_OUT = /timed out|超时/i;

/** `retry-after` as seconds or an HTTP date, in ms from now. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.round(seconds * 1000), 86_400_000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), 86_400_000);
}

/** A retry-after LMArena put in its body (`"retry_after": 30`, `Retry-After: 30`), in ms. */
function retryAfterInText(text: string): number | undefined {
  const match = /retry[-_ ]?after\D{0,4}(\d{1,6})/i.exec(text);
  return match ? retryAfterMs(match[1]) : undefined;
}

/**
 * Classifies the message of a bridge error (the text after "[LMArena Bridge Error]: "), whether it
 * came inside a 200 event stream or as a non-stream `bridge_error` body: the same message gets the
 * same code, status and scope either way. `status` is the one the bridge itself uses for that
 * message when not streaming (413 for an attachment too large, else 500).
 */
export function classifyBridgeMessage(text: string): UpstreamFailure {
  const message = truncateChars(inEnglish(text), 8192);
  if (ATTACHMENT_TOO_LARGE.test(text)) {
    return { code: 'upstream_rejected', status: 413, scope: 'request', message };
  }
  const reason = findReason(text);
  if (reason) {
    return bridgeWide(
      reason,
      500,
      message,
      reason === 'upstream_rate_limited' ? retryAfterInText(text) : undefined,
    );
  }
  if (TIMED_OUT.test(text)) return { code: 'upstream_timeout', status: 500, scope: 'model', message };
  // Anything else LMArena said ("Model is currently unavailable", a 5xx of its own) is this
  // model's trouble on this bridge: it must not bench the bridge for every other model.
  return { code: 'upstream_error', status: 500, scope: 'model', message };
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** The errno-style code of a network error, looking through wrappers undici and Node use. */
export function errorCode(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  if (typeof candidate?.code === 'string') return candidate.code;
  if (candidate?.cause) return errorCode(candidate.cause);
  if (Array.isArray(candidate?.errors) && candidate.errors.length > 0) return errorCode(candidate.errors[0]);
  return undefined;
}

/** Classifies a failure to reach the bridge or to read its body. */
export function classifyNetworkError(error: unknown): UpstreamFailure {
  const code = errorCode(error);
  if (code === 'BRIDGE_BAD_HTTP') {
    // The bridge answered, but not in HTTP (http1/response-parser.ts): its fault, not its absence.
    const detail = error instanceof Error ? error.message : 'a malformed answer';
    return { code: 'upstream_error', status: 502, scope: 'bridge', message: `the bridge sent ${detail}` };
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return { code: 'upstream_timeout', scope: 'bridge', message: `bridge timed out (${code})` };
  }
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return {
    code: 'upstream_unavailable',
    scope: 'bridge',
    reason: 'bridge_down',
    message: truncateChars(`bridge unreachable: ${reason}`, 8192),
  };
}

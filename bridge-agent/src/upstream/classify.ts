/**
 * Maps what the bridge did (an HTTP status, a network failure) to the stable stream error codes
 * of the wire protocol, keeping the bridge's own message text.
 */
import type { Readable } from 'node:stream';
import { type StreamErrorCode, truncateChars } from '@arena-relay/shared';

/** An upstream failure as it goes into an `error` frame. */
export type UpstreamFailure = { code: StreamErrorCode; message: string; status?: number };

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
 * `{"error": {"message": …}}`, or the text itself.
 */
export function errorDetail(text: string): string {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null) {
      const { detail, error } = json as { detail?: unknown; error?: { message?: unknown } };
      if (typeof detail === 'string') return detail;
      if (detail !== undefined) return JSON.stringify(detail);
      if (typeof error?.message === 'string') return error.message;
    }
  } catch {
    // Not JSON: the raw text is the best message there is.
  }
  return text.trim();
}

/** Classifies a non-2xx answer of the bridge. */
export function classifyStatus(status: number, detail: string): UpstreamFailure {
  const said = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return {
      code: 'upstream_unavailable',
      status,
      message: truncateChars(
        `the bridge rejected the agent's key (${status})${said}; check upstream_api_key / AGENT_UPSTREAM_API_KEY`,
        8192,
      ),
    };
  }
  const code: StreamErrorCode =
    status === 503 ? 'upstream_unavailable' : status >= 500 ? 'upstream_error' : 'upstream_rejected';
  return { code, status, message: truncateChars(`bridge answered ${status}${said}`, 8192) };
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
  if (code && TIMEOUT_CODES.has(code)) {
    return { code: 'upstream_timeout', message: `bridge timed out (${code})` };
  }
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return { code: 'upstream_unavailable', message: truncateChars(`bridge unreachable: ${reason}`, 8192) };
}

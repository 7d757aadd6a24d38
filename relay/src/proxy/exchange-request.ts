/** What an Exchange is given: the relay's parts it uses, and the one consumer request it serves. */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { OpenRequest } from '../routing/routable-agent.js';
import type { ClientGate, Router } from '../routing/router.js';
import type { Pin } from '../routing/sticky.js';
import type { ReportDeps } from './exchange-report.js';
import type { RequestUsage } from './observer.js';
import type { ExchangeRegistry } from './registry.js';
import type { ResponseTap } from './response-tap.js';

export type ExchangeDeps = ReportDeps & {
  router: Router;
  registry: ExchangeRegistry;
  retryAttempts: number;
  requestTimeoutMs: number;
  streamWindow: number;
  /** GATEWAY_SSE_KEEPALIVE in ms when GATEWAY_STREAM_COMMIT is `keepalive`; 0: the 200 waits for the first byte. */
  keepAliveMs?: number;
};

export type ExchangeRequest = {
  requestId: string;
  keyId: string;
  model: string;
  /**
   * The models to try, in order (`model`'s aliases and fallbacks expanded, filtered by the key's
   * allow-list); default `[model]`. The bridge is sent the model that was routed.
   */
  models?: readonly string[] | undefined;
  stream: boolean;
  path: string;
  body: unknown;
  /** `body` as the consumer's JSON bytes, when it goes to the agent unchanged. */
  bodyJson?: Buffer | undefined;
  /** The key's named session or conversation this request belongs to, if any. */
  pin: Pin | undefined;
  /** The prompt's length as bridges count it (routing/prompt-limit.ts): routes only to agents it fits. */
  promptChars?: number | undefined;
  res: ServerResponse;
  /** The request's logger, made on first call. */
  log: () => Logger;
  /** Sees (and may add to) the bytes of the answer: usage metering, `include_usage`. */
  tap?: ResponseTap | undefined;
  /** What the request holds from its key's admission (limits/admission.ts): settled once, at its end. */
  admission?: RequestAdmission | undefined;
  /** The request's meter (usage/metered-request.ts): its usage is worked out once, at the end. */
  meter?: { usage(answered: boolean): RequestUsage } | undefined;
};

/** The request's rate-limit handle, as the Exchange uses it. */
export type RequestAdmission = {
  clientGate: ClientGate;
  attemptFailed(agentId: string): void;
  settle(tokens: number): void;
};

/**
 * The stream to open for `request` on an agent routed for `model`. The body stays the consumer's;
 * another model than asked (an alias or a fallback) travels beside it, flagged `rerouted`.
 */
export function openRequestFor(request: ExchangeRequest, model: string): OpenRequest {
  return {
    method: 'POST',
    path: request.path,
    headers: { 'content-type': 'application/json' },
    body: request.body,
    bodyJson: request.bodyJson,
    model,
    ...(model !== request.model && { rerouted: true }),
  };
}

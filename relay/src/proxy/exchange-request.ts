/** What an Exchange is given: the relay's parts it uses, and the one consumer request it serves. */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Router } from '../routing/router.js';
import type { ReportDeps } from './exchange-report.js';
import type { ExchangeRegistry } from './registry.js';
import type { ResponseTap } from './response-tap.js';

export type ExchangeDeps = ReportDeps & {
  router: Router;
  registry: ExchangeRegistry;
  retryAttempts: number;
  requestTimeoutMs: number;
  streamWindow: number;
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
  sessionName: string | undefined;
  res: ServerResponse;
  /** The request's logger, made on first call. */
  log: () => Logger;
  /** Sees (and may add to) the bytes of the answer: usage metering, `include_usage`. */
  tap?: ResponseTap | undefined;
};

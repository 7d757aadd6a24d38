/**
 * What every consumer route that is answered by an agent does, in one place: auth, the key's rate
 * limits, the session name, the body (read, parsed, checked by the route's own `prepare`), then
 * an Exchange streams the answer through, metered on the way.
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import { parseJson, readBody } from '../http/read-body.js';
import { candidateModels } from '../models/model-aliases.js';
import { Exchange, type ResponseTap } from '../proxy/exchange.js';
import { SESSION_NAME } from '../routing/sticky.js';
import type { MeteredRequest } from '../usage/metered-request.js';
import { allowedCandidates, authenticateKey, consumerAuthorization } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';

/** What a route makes of the consumer's JSON body: the chat request an agent will serve. */
export type Prepared = {
  model: string;
  stream: boolean;
  /** The chat request sent to the bridge (its messages also give the prompt's token estimate). */
  body: unknown;
  /** Models to try after `model` when no bridge serves it or it fails before the first byte. */
  fallbacks?: readonly string[] | undefined;
  /** True when `body` is the consumer's body unchanged: its bytes go to the agent as they are. */
  asSent?: boolean;
  includeUsage: boolean;
  /** The tap on the answer's bytes; default: the metering tap itself. */
  tap?: (metered: MeteredRequest) => ResponseTap;
};

/** A Hono handler that serves `POST <path>` through an agent's `POST /v1/chat/completions`. */
export function proxiedRoute(deps: AppDeps, prepare: (json: unknown, requestId: string) => Prepared) {
  return async (c: Context<AppEnv>) => {
    const authorization = consumerAuthorization(c.req.header('authorization'), c.req.header('x-api-key'));
    const key = await authenticateKey(deps.store, authorization, { scope: 'chat' });
    const requestId = c.get('requestId');
    const { limits, meter } = deps.accounting;
    const admission = await limits.admitKey(key, requestId);
    // Set on the node response, so they go out with whatever answer follows (stream or error).
    for (const [name, value] of Object.entries(admission.headers)) c.env.outgoing.setHeader(name, value);
    if (admission.refusal) throw admission.refusal;
    try {
      const sessionName = c.req.header('x-session-name');
      if (sessionName !== undefined && !SESSION_NAME.test(sessionName)) {
        throw new RelayError(
          'invalid_request',
          'X-Session-Name must be 1-128 characters of A-Z a-z 0-9 . _ : -',
          { param: 'x-session-name' },
        );
      }
      const raw = await readBody(c.env.incoming, deps.config.maxBodyBytes);
      const request = prepare(parseJson(raw), requestId);
      const models = allowedCandidates(
        key,
        candidateModels(deps.aliases.table, request.model, request.fallbacks),
        request.model,
      );
      const metered = meter.begin({
        requestId,
        model: request.model,
        body: request.body,
        includeUsage: request.includeUsage,
      });
      const exchange = new Exchange(
        {
          logger: deps.logger,
          router: deps.router,
          registry: deps.registry,
          observer: deps.observer,
          store: deps.store,
          retryAttempts: deps.config.retryAttempts,
          requestTimeoutMs: deps.config.requestTimeoutMs,
          keepAliveMs: deps.config.sseKeepAliveMs,
          streamWindow: deps.config.streamWindow,
        },
        {
          requestId,
          keyId: key.id,
          sessionName,
          model: request.model,
          models,
          stream: request.stream,
          path: '/v1/chat/completions',
          body: request.body,
          bodyJson: request.asSent ? raw : undefined,
          res: c.env.outgoing,
          log: c.get('log'),
          tap: request.tap ? request.tap(metered) : metered,
        },
      );
      await exchange.run();
      return RESPONSE_ALREADY_SENT;
    } catch (error) {
      // Refused before the Exchange ran (once it runs, it settles by itself; twice is harmless).
      limits.settle(requestId);
      meter.discard(requestId);
      throw error;
    }
  };
}

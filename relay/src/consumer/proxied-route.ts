/**
 * What every consumer route that is answered by an agent does, in one place: auth, the key's rate
 * limits, the session name, the body (read, parsed, checked by the route's own `prepare`), then
 * an Exchange streams the answer through, metered on the way.
 */

import { RelayError } from '../errors/relay-error.js';
import type { AppDeps } from '../http/context.js';
import { parseJson, readBody } from '../http/read-body.js';
import { candidateModels } from '../models/model-aliases.js';
import { Exchange, type ResponseTap } from '../proxy/exchange.js';
import { conversationPin } from '../routing/conversation.js';
import { bridgePromptChars } from '../routing/prompt-limit.js';
import { SESSION_NAME, sessionPin } from '../routing/sticky.js';
import { allowedCandidates } from '../security/auth.js';
import type { MeteredRequest } from '../usage/metered-request.js';
import { type ConsumerCall, consumerKey, type Endpoint, stringHeader } from './endpoint.js';
import type { ConsumerRoute } from './route-scopes.js';

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

/** The route's own step: the consumer's JSON body → the chat request an agent will serve. */
export type Prepare = (json: unknown, requestId: string) => Prepared;

/** The endpoint that serves `route` (a POST) through an agent's `POST /v1/chat/completions`. */
export function proxied(route: ConsumerRoute & `POST ${string}`, prepare: Prepare): Endpoint {
  return {
    method: 'POST',
    path: route.slice('POST '.length),
    handle: async (deps, call) => {
      await serveProxied(deps, call, route, prepare);
      return undefined;
    },
  };
}

/**
 * Serves one request through an agent (the handler of every proxied endpoint).
 * Resolves once the answer is committed (or the consumer left); throws the RelayError to answer
 * with when the request is refused (the key's scope for `route` first) or every attempt failed before the first byte.
 */
async function serveProxied(
  deps: AppDeps,
  call: ConsumerCall,
  route: ConsumerRoute,
  prepare: Prepare,
): Promise<void> {
  const { req, res, requestId } = call;
  const key = await consumerKey(deps, req, route);
  const { limits, meter } = deps.accounting;
  const { headers: limitHeaders, admission, refusal } = await limits.admitKey(key, requestId);
  // Set on the node response, so they go out with whatever answer follows (stream or error).
  for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
  if (refusal) throw refusal;
  try {
    const sessionName = stringHeader(req.headers['x-session-name']);
    if (sessionName !== undefined && !SESSION_NAME.test(sessionName)) {
      throw new RelayError(
        'invalid_request',
        'X-Session-Name must be 1-128 characters of A-Z a-z 0-9 . _ : -',
        {
          param: 'x-session-name',
        },
      );
    }
    const raw = await readBody(req, deps.config.maxBodyBytes);
    const request = prepare(parseJson(raw), requestId);
    const models = allowedCandidates(
      key,
      candidateModels(deps.aliases.table, request.model, request.fallbacks),
      request.model,
    );
    const promptChars = bridgePromptChars(request.body);
    try {
      deps.router.checkPromptFits(models, promptChars);
    } catch (error) {
      // No bridge takes it: refused before any bridge, limit or meter counts it.
      admission.refund();
      for (const name in limitHeaders) res.removeHeader(name);
      throw error;
    }
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
        retryAttempts: deps.config.retryAttempts,
        requestTimeoutMs: deps.config.requestTimeoutMs,
        keepAliveMs: deps.config.sseKeepAliveMs,
        streamWindow: deps.config.streamWindow,
      },
      {
        requestId,
        keyId: key.id,
        // A named session wins; otherwise the conversation its opening messages make.
        pin: sessionName
          ? sessionPin(key.id, sessionName)
          : conversationPin(key.id, request.model, request.body),
        promptChars,
        model: request.model,
        models,
        stream: request.stream,
        path: '/v1/chat/completions',
        body: request.body,
        bodyJson: request.asSent ? raw : undefined,
        res,
        log: call.log,
        tap: request.tap ? request.tap(metered) : metered,
        admission,
        meter: metered,
      },
    );
    await exchange.run();
  } catch (error) {
    // Refused before the Exchange ran (once it runs, it settles by itself; twice is harmless).
    admission.settle();
    throw error;
  }
}

/**
 * One consumer endpoint: its method, its path and the one handler both request paths call, the
 * node fast path (consumer/fast-path.ts) and Hono (consumer/consumer-app.ts). A handler either
 * writes the answer itself (a proxied request streams straight to the node response) or returns
 * the JSON body of its 200; refusals are thrown as RelayErrors, answered by the path's one error
 * handler (http/error-reply.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../http/context.js';
import type { RequestScope } from '../http/request-scope.js';
import { authenticateKey, consumerAuthorization } from '../security/auth.js';
import type { ApiKeyRecord } from '../store/store.js';
import { type ConsumerRoute, routeScope } from './route-scopes.js';

/** One consumer request as a handler sees it: the node request and response, and its scope. */
export type ConsumerCall = RequestScope & { req: IncomingMessage; res: ServerResponse };

/** A JSON body to answer with (200), or undefined: the handler wrote the answer to `res` itself. */
export type Answer = { json: unknown } | undefined;

export type Endpoint = {
  method: 'GET' | 'POST';
  /** The exact path (no parameters): the fast path compares it byte for byte. */
  path: string;
  handle(deps: AppDeps, call: ConsumerCall): Promise<Answer>;
};

/** The endpoint as a Hono handler. */
export function honoHandler(deps: AppDeps, endpoint: Endpoint) {
  return async (c: Context<AppEnv>) => {
    const { incoming: req, outgoing: res } = c.env;
    const call = { req, res, requestId: c.get('requestId'), log: c.get('log') };
    const answer = await endpoint.handle(deps, call);
    return answer ? c.json(answer.json) : RESPONSE_ALREADY_SENT;
  };
}

/** A request header as one string (node joins repeated ones; only set-cookie is ever an array). */
export function stringHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The consumer's API key (`Authorization: Bearer`, or the `x-api-key` Anthropic's clients send),
 * checked for the scope `route` needs; throws the key's 401/403.
 */
export function consumerKey(
  deps: AppDeps,
  req: IncomingMessage,
  route: ConsumerRoute,
): Promise<ApiKeyRecord> {
  const authorization = consumerAuthorization(
    req.headers.authorization,
    stringHeader(req.headers['x-api-key']),
  );
  return authenticateKey(deps.store, authorization, { scope: routeScope(route) });
}

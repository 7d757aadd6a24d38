/**
 * The consumer hot path, served straight from node's `http` request handler: the chat and models
 * endpoints build no Request, Headers or Context objects and run no middleware chain, and call
 * the same handler their Hono routes do (consumer/endpoint.ts). Every other request goes to Hono
 * unchanged (admin API, dashboard, Messages, images, …), and so does everything when CORS is
 * configured (Hono's cors middleware answers preflights and decorates every /v1 answer; OPTIONS
 * always goes to Hono).
 *
 * What Hono's middleware does for these endpoints happens here too, through the same functions:
 * the request scope (x-request-id, the lazy child logger), HTTP metrics, the auth brake, the
 * draining refusal, and errors → answers (http/error-reply.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { checkAuthBrake, refuseIfDraining } from '../http/consumer-guards.js';
import type { AppDeps } from '../http/context.js';
import { drainUnreadBody } from '../http/drain-unread.js';
import { type ErrorReply, errorReply } from '../http/error-reply.js';
import { sendJson } from '../http/json-answer.js';
import { beginRequest } from '../http/request-scope.js';
import { countHttpRequest } from '../metrics/metrics-route.js';
import { chatEndpoint } from './chat/chat-route.js';
import type { Endpoint } from './endpoint.js';
import { modelsEndpoint } from './models/models-route.js';

const QUESTION_MARK = 0x3f;

/** `fallback` (Hono's listener) behind the fast path; `fallback` alone when CORS is configured. */
export function consumerFastPath(deps: AppDeps, fallback: RequestListener): RequestListener {
  if (deps.config.corsOrigins.length > 0) return fallback;
  return (req, res) => {
    const endpoint = fastEndpoint(req.method, req.url);
    if (endpoint === undefined) fallback(req, res);
    else
      serve(deps, req, res, endpoint).catch((error: unknown) => {
        // Only a bug gets here (serve answers every error): cut the answer, keep the process.
        deps.logger.error({ err: error }, 'fast path failed');
        res.destroy();
      });
  };
}

/** The endpoint a request is for, as Hono would match it (the path before any query). */
function fastEndpoint(method: string | undefined, url: string | undefined): Endpoint | undefined {
  if (url === undefined) return undefined;
  if (method === 'POST') return isPath(url, chatEndpoint.path) ? chatEndpoint : undefined;
  if (method === 'GET') return isPath(url, modelsEndpoint.path) ? modelsEndpoint : undefined;
  return undefined;
}

function isPath(url: string, path: string): boolean {
  return (
    url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === QUESTION_MARK)
  );
}

async function serve(
  deps: AppDeps,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: Endpoint,
): Promise<void> {
  const { requestId, log } = beginRequest(deps.logger, res);
  try {
    checkAuthBrake(deps, req);
    refuseIfDraining(deps, res);
    const answer = await endpoint.handle(deps, { req, res, requestId, log });
    if (answer) sendJson(res, 200, undefined, answer.json);
  } catch (thrown) {
    answerError(req, res, errorReply(deps, thrown, req, log(), 'openai'));
  }
  // The route pattern, as Hono's metrics middleware counts it: the endpoints' paths are exact.
  countHttpRequest(deps.metrics, req.method!, endpoint.path, res, res.statusCode);
}

function answerError(req: IncomingMessage, res: ServerResponse, reply: ErrorReply): void {
  if (res.headersSent) {
    // Nothing thrown after the head (the Exchange settles by itself once it commits); if it
    // were, the answer is cut rather than given a second head.
    res.destroy();
    return;
  }
  sendJson(res, reply.status, reply.headers, reply.body);
  drainUnreadBody(req, res);
}

/**
 * The consumer hot path, served straight from node's `http` request handler: `POST
 * /v1/chat/completions` and `GET /v1/models` build no Request, Headers or Context objects and run
 * no middleware chain. Every other request goes to Hono unchanged (admin API, dashboard, Messages,
 * images, …), and so does everything when CORS is configured (Hono's cors middleware answers
 * preflights and decorates every /v1 answer; OPTIONS always goes to Hono).
 *
 * What Hono's middleware does for these two routes happens here too, through the same functions:
 * the request scope (x-request-id, the lazy child logger), HTTP metrics, the auth brake, the
 * draining refusal, and errors → answers (http/error-reply.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { checkAuthBrake, refuseIfDraining } from '../http/consumer-guards.js';
import type { AppDeps } from '../http/context.js';
import { drainUnreadBody } from '../http/drain-unread.js';
import { type ErrorReply, errorReply } from '../http/error-reply.js';
import { beginRequest } from '../http/request-scope.js';
import { countHttpRequest } from '../metrics/metrics-route.js';
import { prepareChat } from './chat/chat-route.js';
import { listModels } from './models/models-route.js';
import { serveProxied } from './proxied-route.js';

const CHAT = '/v1/chat/completions';
const MODELS = '/v1/models';
const QUESTION_MARK = 0x3f;

/** `fallback` (Hono's listener) behind the fast path; `fallback` alone when CORS is configured. */
export function consumerFastPath(deps: AppDeps, fallback: RequestListener): RequestListener {
  if (deps.config.corsOrigins.length > 0) return fallback;
  return (req, res) => {
    const route = fastRoute(req.method, req.url);
    if (route === undefined) fallback(req, res);
    else
      serve(deps, req, res, route).catch((error: unknown) => {
        // Only a bug gets here (serve answers every error): cut the answer, keep the process.
        deps.logger.error({ err: error }, 'fast path failed');
        res.destroy();
      });
  };
}

/** The route pattern a request is for, as Hono would match it (the path before any query). */
function fastRoute(method: string | undefined, url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  if (method === 'POST') return isPath(url, CHAT) ? CHAT : undefined;
  if (method === 'GET') return isPath(url, MODELS) ? MODELS : undefined;
  return undefined;
}

function isPath(url: string, path: string): boolean {
  return (
    url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === QUESTION_MARK)
  );
}

async function serve(deps: AppDeps, req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
  const { requestId, log } = beginRequest(deps.logger, res);
  try {
    checkAuthBrake(deps, req);
    refuseIfDraining(deps, res);
    if (route === CHAT)
      await serveProxied(deps, { req, res, requestId, log }, 'POST /v1/chat/completions', prepareChat);
    else sendJson(res, 200, undefined, await listModels(deps, req));
  } catch (thrown) {
    sendError(req, res, errorReply(deps, thrown, req, log(), 'openai'));
  }
  countHttpRequest(deps.metrics, req.method!, route, res, res.statusCode);
}

function sendError(req: IncomingMessage, res: ServerResponse, reply: ErrorReply): void {
  if (res.headersSent) {
    // Nothing thrown after the head (the Exchange settles by itself once it commits); if it
    // were, the answer is cut rather than given a second head.
    res.destroy();
    return;
  }
  sendJson(res, reply.status, reply.headers, reply.body);
  drainUnreadBody(req, res);
}

/** The answer Hono's `c.json` gives: JSON text with its type and length. */
function sendJson(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> | undefined,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(text));
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
  res.writeHead(status);
  res.end(text);
}

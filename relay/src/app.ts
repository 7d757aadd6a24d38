/**
 * The relay's HTTP surface: the consumer API (consumer/consumer-app.ts, `/v1/*`) and the admin
 * API (admin/admin-app.ts, `/api/*`) as sub-apps, beside the health checks, `/metrics` and the
 * dashboard; the node fast path (consumer/fast-path.ts) serves the chat and models endpoints in
 * front of it. Every refusal, a missing route's too, is a RelayError answered by
 * http/error-reply.ts, as on the fast path: the OpenAI error object, or the shape of the route's
 * own API (`errorShape`).
 */
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { adminApp } from './admin/admin-app.js';
import { consumerApp } from './consumer/consumer-app.js';
import { consumerFastPath } from './consumer/fast-path.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import type { ErrorShape } from './errors/error-shapes.js';
import { RelayError } from './errors/relay-error.js';
import type { AppDeps, AppEnv } from './http/context.js';
import { errorReply } from './http/error-reply.js';
import { beginRequest } from './http/request-scope.js';
import { httpMetrics, metricsRoutes } from './metrics/metrics-route.js';

/**
 * Node's request listener, where every HTTP request enters: the consumer fast path in front of
 * the Hono app, or (`fastPath` false) the Hono app alone, as with CORS configured.
 */
export function requestListener(deps: AppDeps, fastPath: boolean): RequestListener {
  const hono = getRequestListener(createApp(deps).fetch);
  return fastPath ? consumerFastPath(deps, hono) : hono;
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const scope = beginRequest(deps.logger, c.env.outgoing);
    c.set('requestId', scope.requestId);
    c.set('log', scope.log);
    await next();
  });
  app.use('*', httpMetrics(deps.metrics));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) =>
    deps.lifecycle.draining
      ? c.json({ status: 'shutting_down' }, 503)
      : c.json({
          // Without Redis a clustered relay still serves its own agents: degraded, not down.
          status: deps.clusterHealthy() === false ? 'degraded' : 'ready',
          agents: deps.hub.sessions.size,
          redis: deps.clusterHealthy() === null ? 'not configured' : deps.clusterHealthy() ? 'up' : 'down',
        }),
  );

  app.route('/', consumerApp(deps));
  app.route('/', adminApp(deps));
  metricsRoutes(app, deps);
  dashboardRoutes(app);

  const answerError = (thrown: unknown, c: Context<AppEnv>, shape: ErrorShape) => {
    const log = c.get('log')?.() ?? deps.logger;
    const { status, headers, body } = errorReply(deps, thrown, c.env.incoming, log, shape);
    for (const name in headers) c.header(name, headers[name]);
    return c.json(body, status as 400);
  };
  // OpenAI's shape even on the Messages paths (a GET there): no Anthropic route matched.
  app.notFound((c) =>
    answerError(new RelayError('not_found', `no route for ${c.req.method} ${c.req.path}`), c, 'openai'),
  );
  app.onError((thrown, c) => answerError(thrown, c, c.get('errorShape') ?? 'openai'));

  return app;
}

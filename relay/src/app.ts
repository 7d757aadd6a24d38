/**
 * The relay's HTTP surface. `app.onError` is the one place an error becomes a response: the
 * OpenAI error object, or the shape of the route's own API (`errorShape`, errors/error-shapes.ts).
 */
import { type Context, Hono, type Next } from 'hono';
import { cors } from 'hono/cors';
import type { Logger } from 'pino';
import { adminGuard, adminRoutes } from './api/admin.js';
import { adminAgentRoutes } from './api/admin-agents.js';
import { aliasRoutes } from './api/admin-aliases.js';
import { healthRoutes } from './api/admin-health.js';
import { statsRoutes } from './api/admin-stats.js';
import { usageRoutes } from './api/admin-usage.js';
import { chatRoutes } from './api/chat.js';
import type { AppDeps, AppEnv } from './api/context.js';
import { imageRoutes } from './api/images.js';
import { anthropicErrors, messagesRoutes } from './api/messages.js';
import { modelRoutes } from './api/models.js';
import { responsesRoutes } from './api/responses.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { errorResponse } from './errors/error-shapes.js';
import { RelayError, toRelayError } from './errors/relay-error.js';
import { clientAddress } from './http/client-address.js';
import { httpMetrics, metricsRoutes } from './metrics/metrics-route.js';
import { downloadRoutes } from './package/download-route.js';
import { updateRoutes } from './package/update-routes.js';
import { generateId } from './store/secrets.js';

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const requestId = generateId('req');
    c.set('requestId', requestId);
    // The request's child logger is made on first use (a pino child costs a measurable share of
    // a chat request, and at the usual levels most requests never log).
    let log: Logger | undefined;
    c.set('log', () => {
      log ??= deps.logger.child({ requestId });
      return log;
    });
    // On the node response, so that it goes out with every answer, streamed or not.
    c.env.outgoing.setHeader('x-request-id', requestId);
    await next();
  });
  app.use('*', httpMetrics(deps.metrics));
  app.use('/v1/messages', anthropicErrors);

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

  // Addresses that keep failing authentication wait before they may try again.
  const authBrake = async (c: Context<AppEnv>, next: Next) => {
    const wait = deps.authGuard.retryAfter(clientAddress(c.env.incoming, deps.config.trustProxy));
    if (wait > 0) {
      throw new RelayError('too_many_auth_failures', 'too many failed authentication attempts; slow down', {
        retryAfter: wait,
      });
    }
    await next();
  };
  // CORS only where configured, and only on the consumer API: /api/* never answers browsers of
  // other origins.
  if (deps.config.corsOrigins.length > 0) {
    const origins = deps.config.corsOrigins;
    app.use(
      '/v1/*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowHeaders: ['authorization', 'x-api-key', 'anthropic-version', 'content-type', 'x-session-name'],
        exposeHeaders: ['x-request-id', 'x-session-pin', 'retry-after'],
        maxAge: 600,
      }),
    );
  }
  app.use('/v1/*', authBrake);
  app.use('/api/*', authBrake);
  // Before any /api route is registered: Hono runs a middleware only for routes added after it.
  app.use('/api/*', adminGuard(deps));

  app.use('/v1/*', async (c, next) => {
    if (deps.lifecycle.draining) {
      c.header('connection', 'close');
      throw new RelayError('no_agents_available', 'relay is shutting down; retry on another relay', {
        retryAfter: 1,
        shouldRetry: true,
      });
    }
    await next();
  });

  chatRoutes(app, deps);
  imageRoutes(app, deps);
  messagesRoutes(app, deps);
  responsesRoutes(app, deps);
  modelRoutes(app, deps);
  adminRoutes(app, deps);
  adminAgentRoutes(app, deps);
  aliasRoutes(app, deps);
  usageRoutes(app, deps);
  statsRoutes(app, deps);
  healthRoutes(app, deps);
  downloadRoutes(app, deps);
  updateRoutes(app, deps);
  metricsRoutes(app, deps);
  dashboardRoutes(app);

  app.notFound((c) => {
    const error = new RelayError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    return c.json(error.body(), 404);
  });

  app.onError((thrown, c) => {
    const error = toRelayError(thrown);
    if (
      error.code === 'invalid_api_key' ||
      error.code === 'invalid_admin_token' ||
      error.code === 'invalid_client_token'
    ) {
      deps.authGuard.failed(clientAddress(c.env.incoming, deps.config.trustProxy));
    }
    const log = c.get('log')?.() ?? deps.logger;
    if (error.status >= 500) log.error({ err: thrown, code: error.code }, 'request failed');
    else log.info({ code: error.code, status: error.status }, 'request refused');
    for (const [name, value] of Object.entries(error.headers())) c.header(name, value);
    // An unread (too large) body must not be drained: close the connection instead.
    if (error.code === 'request_too_large') c.header('connection', 'close');
    const { status, body } = errorResponse(c.get('errorShape') ?? 'openai', error);
    return c.json(body, status as 400);
  });

  return app;
}

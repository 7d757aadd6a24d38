/**
 * The relay's HTTP surface, but for the consumer hot path the node fast path serves in front of
 * it (consumer/fast-path.ts). `app.onError` answers errors through http/error-reply.ts, as the fast
 * path does: the OpenAI error object, or the shape of the route's own API (`errorShape`).
 */
import { type Context, Hono, type Next } from 'hono';
import { cors } from 'hono/cors';
import { adminAgentRoutes } from './admin/admin-agents.js';
import { aliasRoutes } from './admin/admin-aliases.js';
import { clientSettingsRoutes } from './admin/admin-client-settings.js';
import { adminGuard, adminRoutes } from './admin/admin-guard.js';
import { healthRoutes } from './admin/admin-health.js';
import { statsRoutes } from './admin/admin-stats.js';
import { usageRoutes } from './admin/admin-usage.js';
import { alertRoutes } from './alerts/alerts-routes.js';
import { auditRecorder, auditRoutes } from './audit/audit-routes.js';
import { chatRoutes } from './consumer/chat/chat-route.js';
import { imageRoutes } from './consumer/images/images-route.js';
import { anthropicErrors, messagesRoutes } from './consumer/messages/messages-route.js';
import { modelRoutes } from './consumer/models/models-route.js';
import { responsesRoutes } from './consumer/responses/responses-route.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { RelayError } from './errors/relay-error.js';
import { checkAuthBrake, refuseIfDraining } from './http/consumer-guards.js';
import type { AppDeps, AppEnv } from './http/context.js';
import { errorReply } from './http/error-reply.js';
import { beginRequest } from './http/request-scope.js';
import { httpMetrics, metricsRoutes } from './metrics/metrics-route.js';
import { downloadRoutes } from './package/download-route.js';
import { updateRoutes } from './package/update-routes.js';
import { requestRoutes } from './requests/request-routes.js';

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const scope = beginRequest(deps.logger, c.env.outgoing);
    c.set('requestId', scope.requestId);
    c.set('log', scope.log);
    await next();
  });
  app.use('*', httpMetrics(deps.metrics));
  app.use('/v1/messages', anthropicErrors);
  app.use('/v1/messages/count_tokens', anthropicErrors);

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
    checkAuthBrake(deps, c.env.incoming);
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
  app.use('/api/*', auditRecorder(deps));

  app.use('/v1/*', async (c, next) => {
    refuseIfDraining(deps, c.env.outgoing);
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
  clientSettingsRoutes(app, deps);
  usageRoutes(app, deps);
  auditRoutes(app, deps);
  alertRoutes(app, deps);
  statsRoutes(app, deps);
  requestRoutes(app, deps);
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
    const log = c.get('log')?.() ?? deps.logger;
    const { status, headers, body } = errorReply(
      deps,
      thrown,
      c.env.incoming,
      log,
      c.get('errorShape') ?? 'openai',
    );
    for (const name in headers) c.header(name, headers[name]);
    return c.json(body, status as 400);
  });

  return app;
}

/**
 * The consumer API (`/v1/*`) as one Hono sub-app, mounted by app.ts: one endpoint per front-end
 * (consumer/<front-end>/), behind the checks every consumer request passes. The node fast path
 * (consumer/fast-path.ts) serves the chat and models endpoints in front of it through the same
 * handlers, unless CORS is configured.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { authBrake, drainingRefusal } from '../http/consumer-guards.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { chatEndpoint } from './chat/chat-route.js';
import { type Endpoint, honoHandler } from './endpoint.js';
import { imagesEndpoint } from './images/images-route.js';
import { anthropicErrors, countTokensEndpoint, messagesEndpoint } from './messages/messages-route.js';
import { modelsEndpoint } from './models/models-route.js';
import { responsesEndpoint } from './responses/responses-route.js';

/** Every consumer endpoint. */
const CONSUMER_ENDPOINTS: readonly Endpoint[] = [
  chatEndpoint,
  imagesEndpoint,
  messagesEndpoint,
  countTokensEndpoint,
  responsesEndpoint,
  modelsEndpoint,
];

export function consumerApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // First, so that every error of the Messages paths (the auth brake's too) is Anthropic-shaped.
  app.use(messagesEndpoint.path, anthropicErrors);
  app.use(countTokensEndpoint.path, anthropicErrors);
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
  // Addresses that keep failing authentication wait before they may try again.
  app.use('/v1/*', authBrake(deps));
  app.use('/v1/*', drainingRefusal(deps));
  for (const endpoint of CONSUMER_ENDPOINTS)
    app.on(endpoint.method, endpoint.path, honoHandler(deps, endpoint));
  return app;
}

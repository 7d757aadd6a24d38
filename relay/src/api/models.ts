/** `GET /v1/models`: the union of the models connected agents advertise, in OpenAI's list shape. */
import type { Hono } from 'hono';
import { authenticateKey, consumerAuthorization, modelAllowed } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';

export function modelRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const created = Math.floor(Date.now() / 1000);
  app.get('/v1/models', async (c) => {
    const authorization = consumerAuthorization(c.req.header('authorization'), c.req.header('x-api-key'));
    const key = await authenticateKey(deps.store, authorization, { scope: 'models' });
    return c.json({
      object: 'list',
      data: deps.router
        .models()
        .filter((id) => modelAllowed(key, id))
        .map((id) => ({ id, object: 'model', created, owned_by: 'arena-relay' })),
    });
  });
}

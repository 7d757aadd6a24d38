/**
 * `GET /v1/models`: the union of the models connected agents advertise, in OpenAI's list shape.
 * Served by the node fast path (consumer/fast-path.ts) and, when CORS is configured, by this Hono
 * route; both answer with `listModels`.
 */
import type { IncomingMessage } from 'node:http';
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../http/context.js';
import { authenticateKey, consumerAuthorization, modelAllowed } from '../../security/auth.js';
import { stringHeader } from '../proxied-route.js';
import { routeScope } from '../route-scopes.js';

/** When the list's models were "created" (OpenAI's field; the relay has no such date). */
const created = Math.floor(Date.now() / 1000);

/** The models the request's key may use; throws the key's 401/403. */
export async function listModels(deps: AppDeps, req: IncomingMessage): Promise<unknown> {
  const authorization = consumerAuthorization(
    req.headers.authorization,
    stringHeader(req.headers['x-api-key']),
  );
  const key = await authenticateKey(deps.store, authorization, { scope: routeScope('GET /v1/models') });
  return {
    object: 'list',
    data: deps.router
      .models()
      .filter((id) => modelAllowed(key, id))
      .map((id) => ({ id, object: 'model', created, owned_by: 'arena-relay' })),
  };
}

export function modelRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/models', async (c) => c.json(await listModels(deps, c.env.incoming)));
}

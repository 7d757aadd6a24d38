/**
 * The admin JSON API (`/api/*`): one guard for every admin route (the admin token, or an API key
 * with the `admin` scope), then clients (admin-clients.ts) and keys (admin-keys.ts). The guard is
 * mounted by app.ts ahead of every `/api` route (Hono runs a middleware only for the routes
 * registered after it); agents, streams, stats, usage, health and relays routes live in their own
 * modules (the cluster-wide ones ask the other relays through cluster-view.ts).
 */
import type { Hono, MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../http/context.js';
import { authenticateAdmin } from '../security/auth.js';
import { clientRoutes } from './admin-clients.js';
import { keyRoutes } from './admin-keys.js';
import { relayRoutes } from './admin-relays.js';

/** Refuses (401) any `/api` request without the admin token or an admin-scoped key. */
export function adminGuard(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = await authenticateAdmin(deps.store, deps.adminTokenHash, c.req.header('authorization'));
    // Who, for the audit log: a fingerprint of the admin token (never the token), or the key's id.
    c.set(
      'adminActor',
      caller.kind === 'api_key' ? `key:${caller.key.id}` : `admin_token:${deps.adminTokenHash.slice(0, 12)}`,
    );
    await next();
  };
}

export function adminRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  clientRoutes(app, deps);
  keyRoutes(app, deps);
  relayRoutes(app, deps);
}

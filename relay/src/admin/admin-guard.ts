/**
 * The one guard of the admin JSON API (`/api/*`): the admin token, or an API key with the `admin`
 * scope. admin-app.ts mounts it ahead of every `/api` route (Hono runs a middleware only for the
 * routes registered after it).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../http/context.js';
import { authenticateAdmin } from '../security/auth.js';

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

/**
 * The admin JSON API (`/api/*`): one guard for every admin route (the admin token, or an API key
 * with the `admin` scope), then clients (admin-clients.ts) and keys (admin-keys.ts). Live agents
 * and streams are in admin-agents.ts, mounted after this and so behind the same guard.
 */
import type { Hono } from 'hono';
import { clientRoutes } from './admin-clients.js';
import { keyRoutes } from './admin-keys.js';
import { authenticateAdmin } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';

export function adminRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.use('/api/*', async (c, next) => {
    await authenticateAdmin(deps.store, deps.adminTokenHash, c.req.header('authorization'));
    await next();
  });
  clientRoutes(app, deps);
  keyRoutes(app, deps);
}

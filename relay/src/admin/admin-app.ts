/**
 * The admin JSON API (`/api/*`) as one Hono sub-app, mounted by app.ts: the auth brake, the one
 * guard (admin-guard.ts) and the audit recorder ahead of every route, then the routes: clients,
 * keys, agents and streams, aliases, pushed settings, usage, stats, health, relays (here), and
 * the audit log, alerts, request log and agent package routes, mounted here from their own
 * folders. The cluster-wide views ask the other relays through cluster/cluster-view.ts.
 */
import { Hono } from 'hono';
import { alertRoutes } from '../alerts/alerts-routes.js';
import { auditRecorder, auditRoutes } from '../audit/audit-routes.js';
import { authBrake } from '../http/consumer-guards.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { downloadRoutes } from '../package/download-route.js';
import { updateRoutes } from '../package/update-routes.js';
import { requestRoutes } from '../requests/request-routes.js';
import { adminAgentRoutes } from './admin-agents.js';
import { aliasRoutes } from './admin-aliases.js';
import { clientSettingsRoutes } from './admin-client-settings.js';
import { clientRoutes } from './admin-clients.js';
import { adminGuard } from './admin-guard.js';
import { healthRoutes } from './admin-health.js';
import { keyRoutes } from './admin-keys.js';
import { relayRoutes } from './admin-relays.js';
import { statsRoutes } from './admin-stats.js';
import { usageRoutes } from './admin-usage.js';

export function adminApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Addresses that keep failing authentication wait before they may try again.
  app.use('/api/*', authBrake(deps));
  // Before any /api route is registered: Hono runs a middleware only for routes added after it.
  app.use('/api/*', adminGuard(deps));
  app.use('/api/*', auditRecorder(deps));
  clientRoutes(app, deps);
  keyRoutes(app, deps);
  relayRoutes(app, deps);
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
  // Also the agents' bundle download (`/agent/bundle`, outside /api: its own client-token check).
  updateRoutes(app, deps);
  return app;
}

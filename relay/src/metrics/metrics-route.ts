/**
 * `GET /metrics` (Prometheus text format), open by default as DESIGN.md says, or behind the admin
 * token with METRICS_REQUIRE_TOKEN; and the middleware that counts every HTTP answer by route.
 */
import type { ServerResponse } from 'node:http';
import type { Context, Hono, Next } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppDeps, AppEnv } from '../http/context.js';
import { authenticateAdmin } from '../security/auth.js';
import type { RelayMetrics } from './relay-metrics.js';

export function metricsRoutes(app: Hono<AppEnv>, deps: AppDeps & { metrics: RelayMetrics }): void {
  app.get('/metrics', async (c) => {
    if (deps.config.metricsRequireToken) {
      await authenticateAdmin(deps.store, deps.adminTokenHash, c.req.header('authorization'));
    }
    const { contentType, body } = await deps.metrics.scrape();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
}

/**
 * Counts each answered request under its route pattern (`/api/clients/:id`), never the raw path,
 * so that label values stay few; requests no route matched count as `unmatched`.
 */
export function httpMetrics(metrics: RelayMetrics) {
  return async (c: Context<AppEnv>, next: Next): Promise<void> => {
    await next();
    const last = matchedRoutes(c).at(-1)?.path;
    const route = last === undefined || last.endsWith('*') ? 'unmatched' : last;
    countHttpRequest(metrics, c.req.method, route, c.env?.outgoing, c.res.status);
  };
}

/**
 * Counts one answered request, for both request paths (this middleware, the node fast path).
 * Streamed answers (chat) are written straight to the socket: once their head is out, its status
 * is the one counted, else `answered`'s (the status of the answer about to be written).
 */
export function countHttpRequest(
  metrics: RelayMetrics,
  method: string,
  route: string,
  res: ServerResponse | undefined,
  answered: number,
): void {
  metrics.httpRequest(method, route, res?.headersSent ? res.statusCode : answered);
}

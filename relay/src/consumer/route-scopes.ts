/**
 * Which scope each consumer route needs, in one table read by the endpoints' handlers (one per
 * route, whichever request path calls it: Hono or the node fast path). A route not listed here is
 * not a consumer route. Keys stored before the table existed had one `chat` scope for every proxied
 * route; the stores read such a `chat` as `chat` + `messages` + `responses` (`readScopes` in
 * store/api-key-records.ts), so those keys keep what they could do, while `images` is now its own
 * scope as the admin API always said it was.
 */
import type { ApiKeyScope } from '../store/store.js';

export const ROUTE_SCOPES = {
  'POST /v1/chat/completions': 'chat',
  'POST /v1/messages': 'messages',
  'POST /v1/responses': 'responses',
  'GET /v1/models': 'models',
  'POST /v1/images/generations': 'images',
} as const satisfies Record<string, ApiKeyScope>;

export type ConsumerRoute = keyof typeof ROUTE_SCOPES;

/** The scope `route` requires. */
export function routeScope(route: ConsumerRoute): ApiKeyScope {
  return ROUTE_SCOPES[route];
}

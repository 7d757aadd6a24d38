/**
 * `GET /v1/models`: the union of the models connected agents advertise, in OpenAI's list shape.
 * One endpoint, served by the node fast path (consumer/fast-path.ts) and, when CORS is configured,
 * by Hono (consumer/consumer-app.ts).
 */
import { authenticateKey, consumerAuthorization, modelAllowed } from '../../security/auth.js';
import { type Endpoint, stringHeader } from '../endpoint.js';
import { routeScope } from '../route-scopes.js';

/** When the list's models were "created" (OpenAI's field; the relay has no such date). */
const created = Math.floor(Date.now() / 1000);

/** The models the request's key may use; throws the key's 401/403. */
export const modelsEndpoint: Endpoint = {
  method: 'GET',
  path: '/v1/models',
  handle: async (deps, { req }) => {
    const authorization = consumerAuthorization(
      req.headers.authorization,
      stringHeader(req.headers['x-api-key']),
    );
    const key = await authenticateKey(deps.store, authorization, { scope: routeScope('GET /v1/models') });
    const data = deps.router
      .models()
      .filter((id) => modelAllowed(key, id))
      .map((id) => ({ id, object: 'model', created, owned_by: 'arena-relay' }));
    return { json: { object: 'list', data } };
  },
};

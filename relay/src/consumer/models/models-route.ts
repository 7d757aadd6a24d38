/**
 * `GET /v1/models`: the union of the models connected agents advertise, in OpenAI's list shape.
 * One endpoint, served by the node fast path (consumer/fast-path.ts) and, when CORS is configured,
 * by Hono (consumer/consumer-app.ts).
 */
import { modelAllowed } from '../../security/auth.js';
import { consumerKey, type Endpoint } from '../endpoint.js';

/** When the list's models were "created" (OpenAI's field; the relay has no such date). */
const created = Math.floor(Date.now() / 1000);

/** The models the request's key may use; throws the key's 401/403. */
export const modelsEndpoint: Endpoint = {
  method: 'GET',
  path: '/v1/models',
  handle: async (deps, { req }) => {
    const key = await consumerKey(deps, req, 'GET /v1/models');
    const data = deps.router
      .models()
      .filter((id) => modelAllowed(key, id))
      .map((id) => ({ id, object: 'model', created, owned_by: 'arena-relay' }));
    return { json: { object: 'list', data } };
  },
};

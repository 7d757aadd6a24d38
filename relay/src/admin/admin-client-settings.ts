/**
 * `GET|PUT /api/clients/{id}/settings`: what the operator sets for a client's agents
 * (`{"max_concurrency": 2, "models": {"hide": ["dall-e-3"]}, "log_level": "debug"}`). A PUT
 * replaces them and reaches the client's agents on every relay of the cluster at once.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { clientSettings } from '../clients/pushed-settings.js';
import { clusterQuery } from '../cluster/cluster-view.js';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';

const changed = z.strictObject({ client: z.string().min(1).max(128), settings: clientSettings });

export function clientSettingsRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { store, pushedSettings } = deps;
  const broadcast = clusterQuery(deps, 'client-settings', changed, ({ client, settings }) => {
    pushedSettings.pushToClient(client, settings);
    return null;
  });

  const client = async (id: string) => {
    if (!(await store.getClient(id))) throw new RelayError('not_found', `no client with id '${id}'`);
    return id;
  };

  app.get('/api/clients/:id/settings', async (c) => {
    const id = await client(c.req.param('id'));
    return c.json({ settings: await pushedSettings.get(id) });
  });

  app.put('/api/clients/:id/settings', async (c) => {
    const settings = await body(() => c.req.json(), clientSettings);
    const id = await client(c.req.param('id'));
    await pushedSettings.set(id, settings);
    // Every relay, this one included, pushes them to its own agents of the client.
    const { unreachable } = await broadcast({ client: id, settings });
    return c.json({ settings, unreachable });
  });
}

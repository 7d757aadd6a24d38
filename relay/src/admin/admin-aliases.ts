/**
 * `/api/aliases`: the operator's model aliases. `PUT /api/aliases/{name}` with
 * `{"models": ["gpt-5-mini", "claude-haiku-4"]}` makes `name` usable wherever a model is, tried in
 * that order; `DELETE` removes it. Shared by every relay of a cluster (the Store holds them).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';

const aliasBody = z.strictObject({ models: z.array(z.string()) });

export function aliasRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { aliases } = deps;

  app.get('/api/aliases', async (c) => {
    await aliases.load();
    return c.json({ aliases: aliases.list() });
  });

  app.put('/api/aliases/:name', async (c) => {
    const input = await body(() => c.req.json(), aliasBody);
    const name = c.req.param('name');
    const models = await aliases.set(name, input.models);
    return c.json({ name, models });
  });

  app.delete('/api/aliases/:name', async (c) => {
    const name = c.req.param('name');
    if (!(await aliases.delete(name))) throw new RelayError('not_found', `no alias named '${name}'`);
    return c.json({ name, deleted: true });
  });
}

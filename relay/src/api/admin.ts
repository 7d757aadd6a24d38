/** The admin JSON API (`/api/*`, admin token): bridge clients, API keys, live agents. */
import type { Hono } from 'hono';
import { z } from 'zod';
import { RelayError } from '../errors/relay-error.js';
import { generateSecret, hashSecret, secretPreview } from '../store/secrets.js';
import { authenticateAdmin } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';

const newClientBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).optional(),
  lmarena_bridge_url: z.url().max(2048).optional(),
  capabilities: z.array(z.string().min(1).max(64)).max(64).default(['chat']),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

const newKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  scopes: z
    .array(z.enum(['chat', 'models', 'images']))
    .min(1)
    .default(['chat', 'models', 'images']),
});

/** Parses a JSON body against a schema, listing every problem in one 400. */
async function body<T>(read: () => Promise<unknown>, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await read();
  } catch {
    throw new RelayError('invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  const first = parsed.error.issues[0]?.path.join('.') || null;
  throw new RelayError('invalid_request', problems.join('; '), { param: first });
}

export function adminRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { store, hub } = deps;
  app.use('/api/*', async (c, next) => {
    authenticateAdmin(deps.adminTokenHash, c.req.header('authorization'));
    await next();
  });

  app.post('/api/clients', async (c) => {
    const input = await body(() => c.req.json(), newClientBody);
    const token = generateSecret('clientToken');
    const client = await store.createClient({
      name: input.name,
      email: input.email ?? null,
      lmarena_bridge_url: input.lmarena_bridge_url ?? null,
      capabilities: input.capabilities,
      metadata: input.metadata,
      tokenHash: hashSecret(token),
      tokenPreview: secretPreview(token),
    });
    return c.json({ client, token }, 201);
  });

  app.get('/api/clients', async (c) => c.json({ clients: await store.listClients() }));

  app.get('/api/clients/:id', async (c) => {
    const client = await store.getClient(c.req.param('id'));
    if (!client) throw new RelayError('not_found', `no client with id '${c.req.param('id')}'`);
    return c.json({ client });
  });

  app.post('/api/keys', async (c) => {
    const input = await body(() => c.req.json(), newKeyBody);
    const key = generateSecret('apiKey');
    const record = await store.createApiKey({
      name: input.name,
      scopes: input.scopes,
      keyHash: hashSecret(key),
      preview: secretPreview(key),
    });
    return c.json({ id: record.id, key, api_key: record }, 201);
  });

  app.get('/api/keys', async (c) => c.json({ keys: await store.listApiKeys() }));

  app.delete('/api/keys/:id', async (c) => {
    const revoked = await store.revokeApiKey(c.req.param('id'));
    if (!revoked) throw new RelayError('not_found', `no live key with id '${c.req.param('id')}'`);
    return c.json({ id: c.req.param('id'), revoked: true });
  });

  app.get('/api/agents', (c) =>
    c.json({
      agents: hub.list().map((s) => ({
        id: s.id,
        client_id: s.client.id,
        client_name: s.client.name,
        connected_since: s.connectedAt.toISOString(),
        remote_address: s.remoteAddress,
        models: [...s.models],
        capabilities: s.hello?.capabilities ?? [],
        max_concurrency: s.maxConcurrency,
        in_flight: s.inFlight,
        ready: s.ready,
        ready_reason: s.readyReason ?? null,
        draining: s.draining,
        last_heartbeat: s.lastHeartbeatAt?.toISOString() ?? null,
        rtt_ms: s.rttMs ?? null,
      })),
    }),
  );
}

/**
 * `/api/clients`: register, list, inspect, change, disable, delete bridge clients and rotate
 * their tokens. Disabling and deleting close the client's live sockets at once; the upgrade
 * check then refuses it (disabled: 401 `client_disabled`; deleted or unknown token: 401).
 * Rotating leaves the old token valid for a grace period (security/credential-grace.ts): its sockets
 * close when that ends, and it is then refused as `client_token_rotated`.
 *
 * A `webhook_url` (the owner's own alert receiver) is judged by the SSRF guard before it is stored,
 * and each write of one issues a new signing secret, answered once as `webhook_secret`: the operator
 * hands it to the owner with the token, and writing the URL again is how it is rotated.
 */
import { tokenIdOfHash } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { ownerWebhookUrlProblem } from '../alerts/ssrf-guard.js';
import { liveClient, liveCounts } from '../clients/live-client.js';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { graceUntil, previousValidUntil } from '../security/credential-grace.js';
import { generateSecret, hashSecret, secretPreview } from '../store/secrets.js';
import { DuplicateNameError } from '../store/store.js';
import { clientPatchBody, newClientBody } from './admin-schemas.js';

/** Awaits a store write, answering 409 `conflict` (param `name`) for a duplicate client name. */
async function uniqueName<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof DuplicateNameError)
      throw new RelayError('conflict', error.message, { param: 'name' });
    throw error;
  }
}

const notFound = (id: string) => new RelayError('not_found', `no client with id '${id}'`);

/** The webhook fields to store for a URL written (with its new secret), or nothing when absent. */
function ownerWebhook(url: string | null | undefined, deps: AppDeps) {
  if (url === undefined) return {};
  if (url === null) return { webhook_url: null, webhook_secret: null };
  const problem = ownerWebhookUrlProblem(url, deps.config.alerts.ownerWebhook);
  if (problem) throw new RelayError('invalid_request', `webhook_url: ${problem}`, { param: 'webhook_url' });
  return { webhook_url: url, webhook_secret: generateSecret('webhookSecret') };
}

/** The answer's `webhook_secret`, when this write issued one (it is not shown again). */
const issued = (hook: { webhook_secret?: string | null }) =>
  hook.webhook_secret ? { webhook_secret: hook.webhook_secret } : {};

export function clientRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { store, closeClientSockets } = deps;

  app.post('/api/clients', async (c) => {
    const input = await body(() => c.req.json(), newClientBody);
    const hook = ownerWebhook(input.webhook_url, deps);
    const token = generateSecret('clientToken');
    const client = await uniqueName(
      store.createClient({
        name: input.name,
        email: input.email ?? null,
        ...hook,
        lmarena_bridge_url: input.lmarena_bridge_url ?? null,
        capabilities: input.capabilities,
        rate_limit: input.rate_limit,
        metadata: input.metadata,
        tokenHash: hashSecret(token),
        tokenPreview: secretPreview(token),
      }),
    );
    return c.json({ client, token, ...issued(hook) }, 201);
  });

  // Joined with what is live on the cluster now: readiness, and "seen" for a connected client.
  const live = () =>
    liveCounts([
      ...deps.hub.list().map((s) => ({ clientId: s.client.id, ready: s.ready, draining: s.draining })),
      ...(deps.cluster?.membership.agents().map((a) => a.seen) ?? []),
    ]);

  app.get('/api/clients', async (c) => {
    const counts = live();
    const now = new Date();
    return c.json({ clients: (await store.listClients()).map((client) => liveClient(client, counts, now)) });
  });

  app.get('/api/clients/:id', async (c) => {
    const client = await store.getClient(c.req.param('id'));
    if (!client) throw notFound(c.req.param('id'));
    return c.json({ client: liveClient(client, live(), new Date()) });
  });

  app.patch('/api/clients/:id', async (c) => {
    const id = c.req.param('id');
    const patch = await body(() => c.req.json(), clientPatchBody);
    const hook = ownerWebhook(patch.webhook_url, deps);
    const client = await uniqueName(store.updateClient(id, { ...patch, ...hook }));
    if (!client) throw notFound(id);
    if (client.status === 'disabled') closeClientSockets(id, 'client disabled');
    return c.json({ client, ...issued(hook) });
  });

  app.delete('/api/clients/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await store.deleteClient(id))) throw notFound(id);
    closeClientSockets(id, 'client deleted');
    return c.json({ id, deleted: true });
  });

  /** `?grace_seconds=` overrides CREDENTIAL_GRACE_SECONDS: how long the old token still works. */
  app.post('/api/clients/:id/rotate-token', async (c) => {
    const id = c.req.param('id');
    const until = graceUntil(c, deps);
    const token = generateSecret('clientToken');
    const tokenHash = hashSecret(token);
    const client = await store.rotateClientToken(id, tokenHash, secretPreview(token), until);
    if (!client) throw notFound(id);
    closeClientSockets(id, 'client token rotated', { currentTokenHash: tokenHash, at: until });
    return c.json({
      client,
      token,
      token_id: tokenIdOfHash(tokenHash),
      previous_token_valid_until: previousValidUntil(until),
    });
  });
}

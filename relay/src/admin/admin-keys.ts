/**
 * `/api/keys`: create (the key is shown once), list, inspect, change, regenerate and revoke API
 * keys. A revoked key stays readable by id (`revoked: true`) but can no longer change.
 * Regenerating gives a key a new secret and keeps the old one valid for a grace period
 * (security/credential-grace.ts), so the consumers using it can move over; revoking ends that too.
 */
import type { Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { graceUntil, previousValidUntil } from '../security/credential-grace.js';
import { generateSecret, hashSecret, secretPreview } from '../store/secrets.js';
import { keyPatchBody, newKeyBody } from './admin-schemas.js';

export function keyRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { store } = deps;

  app.post('/api/keys', async (c) => {
    const input = await body(() => c.req.json(), newKeyBody);
    const key = generateSecret('apiKey');
    const record = await store.createApiKey({
      name: input.name,
      scopes: input.scopes,
      allowed_models: input.allowed_models,
      expires_at: input.expires_at,
      limits: input.limits,
      keyHash: hashSecret(key),
      preview: secretPreview(key),
    });
    return c.json({ id: record.id, key, api_key: record }, 201);
  });

  /** Live keys; `?include_revoked=true` adds revoked ones. */
  app.get('/api/keys', async (c) => {
    const includeRevoked = ['true', '1'].includes(c.req.query('include_revoked') ?? '');
    return c.json({ keys: await store.listApiKeys({ includeRevoked }) });
  });

  app.get('/api/keys/:id', async (c) => {
    const record = await store.getApiKey(c.req.param('id'));
    if (!record) throw new RelayError('not_found', `no key with id '${c.req.param('id')}'`);
    return c.json({ api_key: record });
  });

  app.patch('/api/keys/:id', async (c) => {
    const patch = await body(() => c.req.json(), keyPatchBody);
    const record = await store.updateApiKey(c.req.param('id'), patch);
    if (!record) throw new RelayError('not_found', `no live key with id '${c.req.param('id')}'`);
    return c.json({ api_key: record });
  });

  /** `?grace_seconds=` overrides CREDENTIAL_GRACE_SECONDS: how long the old secret still works. */
  app.post('/api/keys/:id/regenerate', async (c) => {
    const until = graceUntil(c, deps);
    const key = generateSecret('apiKey');
    const record = await store.regenerateApiKey(
      c.req.param('id'),
      hashSecret(key),
      secretPreview(key),
      until,
    );
    if (!record) throw new RelayError('not_found', `no live key with id '${c.req.param('id')}'`);
    return c.json({
      id: record.id,
      key,
      api_key: record,
      previous_key_valid_until: previousValidUntil(until),
    });
  });

  app.delete('/api/keys/:id', async (c) => {
    const revoked = await store.revokeApiKey(c.req.param('id'));
    if (!revoked) throw new RelayError('not_found', `no live key with id '${c.req.param('id')}'`);
    return c.json({ id: c.req.param('id'), revoked: true });
  });
}

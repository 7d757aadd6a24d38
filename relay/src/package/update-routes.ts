/**
 * Self-update over HTTP: `GET /agent/bundle` hands an agent (its client token as Bearer) the
 * bundle this relay ships, and `GET|PUT /api/clients/{id}/agent-update` read and set a client's
 * update policy (`{"mode":"auto"}`, `{"mode":"off"}`, `{"mode":"pin","version":"0.2.0"}`).
 */

import { AGENT_BUNDLE_PATH } from '@arena-relay/shared';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import { clientAddress } from '../http/client-address.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { hashSecret } from '../store/secrets.js';
import type { AgentBundle } from './agent-bundle.js';
import { updatePolicy } from './agent-updates.js';

export function updateRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get(AGENT_BUNDLE_PATH, async (c: Context<AppEnv>) => {
    const address = clientAddress(c.env.incoming, deps.config.trustProxy);
    const wait = deps.authGuard.retryAfter(address);
    if (wait > 0) {
      throw new RelayError('too_many_auth_failures', 'too many failed authentication attempts; slow down', {
        retryAfter: wait,
      });
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const client = token ? await deps.store.findClientByTokenHash(hashSecret(token)) : undefined;
    if (!client) throw new RelayError('invalid_client_token', 'a valid client token is required');
    if (client.status === 'disabled') throw new RelayError('permission_denied', 'client is disabled');
    let shipped: AgentBundle;
    try {
      shipped = await deps.agentBundle();
    } catch {
      throw new RelayError('not_found', 'this relay ships no agent bundle');
    }
    c.get('log')().info({ clientId: client.id, version: shipped.version }, 'agent bundle fetched');
    // Straight to the node response: the bundle may be a view into a larger buffer (esbuild's
    // output), which a Web Response body would not honour byte for byte.
    const code = Buffer.from(shipped.code.buffer, shipped.code.byteOffset, shipped.code.byteLength);
    c.env.outgoing.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': code.byteLength,
      'x-agent-version': shipped.version,
      'x-agent-sha256': shipped.sha256,
      'cache-control': 'no-store',
    });
    c.env.outgoing.end(code);
    return RESPONSE_ALREADY_SENT;
  });

  app.get('/api/clients/:id/agent-update', async (c) => {
    const id = c.req.param('id');
    if (!(await deps.store.getClient(id))) throw new RelayError('not_found', `no client with id '${id}'`);
    return c.json({
      policy: await deps.updates.policy(id),
      shipped: deps.updates.shipped ? { version: deps.updates.shipped.version } : null,
    });
  });

  app.put('/api/clients/:id/agent-update', async (c) => {
    const id = c.req.param('id');
    const policy = await body(() => c.req.json(), updatePolicy);
    if (!(await deps.store.getClient(id))) throw new RelayError('not_found', `no client with id '${id}'`);
    await deps.updates.setPolicy(id, policy);
    return c.json({ policy });
  });
}

/**
 * `GET /api/clients/{id}/download`: the client package as `arena-agent-{id}.zip`. Only a hash of
 * a client's token is stored, so the package carries a fresh one: the download rotates the token.
 * The old one keeps working for the grace period (CREDENTIAL_GRACE_SECONDS, or
 * `?grace_seconds=`), then its sockets close on every relay sharing the store.
 */
import { tokenIdOfHash } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { graceUntil, previousValidUntil } from '../security/credential-grace.js';
import { generateSecret, hashSecret, secretPreview } from '../store/secrets.js';
import type { AgentBundle } from './agent-bundle.js';
import { buildClientPackage, packageFileName } from './client-package.js';
import { publicUrl } from './public-url.js';
import { PACKAGE_WARNING_HEADER, transportNotices } from './transport-notice.js';

export function downloadRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/api/clients/:id/download', async (c) => {
    const id = c.req.param('id');
    if (!(await deps.store.getClient(id))) throw new RelayError('not_found', `no client with id '${id}'`);
    const until = graceUntil(c, deps);
    const relayUrl = publicUrl({
      publicUrl: deps.config.publicUrl,
      trustProxy: deps.config.trustProxy,
      tls: deps.config.tls !== undefined,
      headers: c.env.incoming.headers,
    });
    if (!relayUrl) {
      throw new RelayError(
        'invalid_request',
        'cannot tell the relay address from this request; set PUBLIC_URL',
        {
          param: 'host',
        },
      );
    }
    // Built before the token changes: a failed build must not retire the client's token.
    let bundle: AgentBundle;
    try {
      bundle = await deps.agentBundle();
    } catch (error) {
      c.get('log')().error({ err: error }, 'agent bundle build failed');
      throw new RelayError('internal_error', 'the agent bundle could not be built; see the relay log');
    }
    const token = generateSecret('clientToken');
    const tokenHash = hashSecret(token);
    const client = await deps.store.rotateClientToken(id, tokenHash, secretPreview(token), until);
    if (!client) throw new RelayError('not_found', `no client with id '${id}'`);
    deps.closeClientSockets(id, 'client token replaced by a package download', {
      currentTokenHash: tokenHash,
      at: until,
    });
    const zip = buildClientPackage(
      {
        client,
        token,
        tokenId: tokenIdOfHash(tokenHash),
        previousTokenValidUntil: previousValidUntil(until),
        relayUrl,
        generatedAt: new Date(),
      },
      bundle,
    );
    c.get('log')().info({ clientId: id, relayUrl, bytes: zip.byteLength }, 'client package downloaded');
    const notices = transportNotices(relayUrl);
    if (notices.length > 0) {
      const codes = notices.map((notice) => notice.code);
      c.get('log')().warn(
        { clientId: id, relayUrl, notices: codes },
        'client package with a doubtful relay address',
      );
    }
    // zipSync allocates a plain ArrayBuffer; the cast only narrows its declared type.
    return c.body(zip as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${packageFileName(id)}"`,
      'cache-control': 'no-store',
      ...(notices.length > 0 && {
        [PACKAGE_WARNING_HEADER]: notices.map((notice) => notice.text).join(' '),
      }),
    });
  });
}

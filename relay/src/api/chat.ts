/**
 * `POST /v1/chat/completions`: auth, the key's rate limits, body checks, then an Exchange streams
 * the answer through (metered on the way).
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import { parseJson, readBody } from '../http/read-body.js';
import { Exchange } from '../proxy/exchange.js';
import { SESSION_NAME } from '../routing/sticky.js';
import { assertModelAllowed, authenticateKey } from './auth.js';
import { validateChatRequest } from './chat-schema.js';
import type { AppDeps, AppEnv } from './context.js';

export function chatRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/v1/chat/completions', async (c) => {
    const key = await authenticateKey(deps.store, c.req.header('authorization'), { scope: 'chat' });
    const requestId = c.get('requestId');
    const { limits, meter } = deps.accounting;
    const admission = await limits.admitKey(key, requestId);
    // Set on the node response, so they go out with whatever answer follows (stream or error).
    for (const [name, value] of Object.entries(admission.headers)) c.env.outgoing.setHeader(name, value);
    if (admission.refusal) throw admission.refusal;
    try {
      const sessionName = c.req.header('x-session-name');
      if (sessionName !== undefined && !SESSION_NAME.test(sessionName)) {
        throw new RelayError(
          'invalid_request',
          'X-Session-Name must be 1-128 characters of A-Z a-z 0-9 . _ : -',
          {
            param: 'x-session-name',
          },
        );
      }
      const raw = await readBody(c.env.incoming, deps.config.maxBodyBytes);
      const request = validateChatRequest(parseJson(raw));
      assertModelAllowed(key, request.model);
      const stream = request.stream === true;
      const exchange = new Exchange(
        {
          logger: deps.logger,
          router: deps.router,
          registry: deps.registry,
          observer: deps.observer,
          store: deps.store,
          retryAttempts: deps.config.retryAttempts,
          requestTimeoutMs: deps.config.requestTimeoutMs,
          streamWindow: deps.config.streamWindow,
        },
        {
          requestId,
          keyId: key.id,
          sessionName,
          model: request.model,
          stream,
          path: '/v1/chat/completions',
          body: request,
          res: c.env.outgoing,
          log: c.get('log'),
          tap: meter.begin({
            requestId,
            model: request.model,
            body: request,
            includeUsage: stream && request.stream_options?.include_usage === true,
          }),
        },
      );
      await exchange.run();
      return RESPONSE_ALREADY_SENT;
    } catch (error) {
      // Refused before the Exchange ran (once it runs, it settles by itself; twice is harmless).
      limits.settle(requestId);
      meter.discard(requestId);
      throw error;
    }
  });
}

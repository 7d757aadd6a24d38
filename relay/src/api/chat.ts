/** `POST /v1/chat/completions`: auth, body checks, then an Exchange streams the answer through. */
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
    const exchange = new Exchange(
      {
        router: deps.router,
        registry: deps.registry,
        observer: deps.observer,
        store: deps.store,
        retryAttempts: deps.config.retryAttempts,
        requestTimeoutMs: deps.config.requestTimeoutMs,
        streamWindow: deps.config.streamWindow,
      },
      {
        requestId: c.get('requestId'),
        keyId: key.id,
        sessionName,
        model: request.model,
        stream: request.stream === true,
        path: '/v1/chat/completions',
        body: request,
        res: c.env.outgoing,
        log: c.get('log'),
      },
    );
    await exchange.run();
    return RESPONSE_ALREADY_SENT;
  });
}

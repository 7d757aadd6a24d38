/** `POST /v1/chat/completions`: auth, body checks, then an Exchange streams the answer through. */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Hono } from 'hono';
import { parseJson, readBody } from '../http/read-body.js';
import { Exchange } from '../proxy/exchange.js';
import { authenticateKey } from './auth.js';
import { validateChatRequest } from './chat-schema.js';
import type { AppDeps, AppEnv } from './context.js';

export function chatRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/v1/chat/completions', async (c) => {
    await authenticateKey(deps.store, c.req.header('authorization'));
    const raw = await readBody(c.env.incoming, deps.config.maxBodyBytes);
    const request = validateChatRequest(parseJson(raw));
    const exchange = new Exchange(
      {
        router: deps.router,
        retryAttempts: deps.config.retryAttempts,
        requestTimeoutMs: deps.config.requestTimeoutMs,
        streamWindow: deps.config.streamWindow,
      },
      {
        requestId: c.get('requestId'),
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

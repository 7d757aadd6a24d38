/**
 * `POST /v1/messages` (Anthropic Messages API), served by an agent's chat completions through
 * the one proxied-route pipeline: the request is translated (frontends/messages-request.ts), the
 * answer rewritten by a tap (frontends/messages-answer.ts), errors answered in Anthropic's shape.
 */
import type { Context, Hono, Next } from 'hono';
import { MessagesAnswer } from '../frontends/messages-answer.js';
import { messagesToChat, messagesTools, parseMessagesRequest } from '../frontends/messages-request.js';
import type { AppDeps, AppEnv } from './context.js';
import { proxiedRoute } from './proxied-route.js';
import { translated } from './translated.js';

/** Middleware for the Messages path: every error from the first check on is Anthropic-shaped. */
export async function anthropicErrors(c: Context<AppEnv>, next: Next): Promise<void> {
  c.set('errorShape', 'anthropic');
  await next();
}

export function messagesRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post(
    '/v1/messages',
    proxiedRoute(deps, 'POST /v1/messages', (json, requestId) => {
      const request = parseMessagesRequest(json);
      const tools = messagesTools(request);
      return translated(
        request.model,
        messagesToChat(request, tools),
        tools,
        (metered) => new MessagesAnswer(requestId, request.model, metered.promptTokens()),
      );
    }),
  );
}

/**
 * `POST /v1/responses` (OpenAI Responses API, stateless subset), served by an agent's chat
 * completions through the one proxied-route pipeline: the request is translated
 * (frontends/responses-request.ts), the answer rewritten by a tap (frontends/responses-answer.ts).
 * Errors keep OpenAI's shape.
 */
import type { Hono } from 'hono';
import { ResponsesAnswer } from '../frontends/responses-answer.js';
import { parseResponsesRequest, responsesToChat, responsesTools } from '../frontends/responses-request.js';
import type { AppDeps, AppEnv } from './context.js';
import { proxiedRoute } from './proxied-route.js';
import { translated } from './translated.js';

export function responsesRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post(
    '/v1/responses',
    proxiedRoute(deps, 'POST /v1/responses', (json, requestId) => {
      const request = parseResponsesRequest(json);
      const tools = responsesTools(request);
      return translated(
        request.model,
        responsesToChat(request, tools),
        tools,
        (metered) => new ResponsesAnswer(requestId, request, metered.promptTokens()),
      );
    }),
  );
}

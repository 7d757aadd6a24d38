/**
 * `POST /v1/responses` (OpenAI Responses API, stateless subset), served by an agent's chat
 * completions through the one proxied-route pipeline: the request is translated
 * (responses-request.ts), the answer rewritten by a tap (responses-answer.ts).
 * Errors keep OpenAI's shape.
 */
import { proxied } from '../proxied-route.js';
import { translated } from '../translated.js';
import { ResponsesAnswer } from './responses-answer.js';
import { parseResponsesRequest, responsesToChat, responsesTools } from './responses-request.js';

export const responsesEndpoint = proxied('POST /v1/responses', (json, requestId) => {
  const request = parseResponsesRequest(json);
  const tools = responsesTools(request);
  return translated(
    request.model,
    responsesToChat(request, tools),
    tools,
    (metered) => new ResponsesAnswer(requestId, request, metered.promptTokens()),
  );
});

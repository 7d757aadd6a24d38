/**
 * `POST /v1/responses` (OpenAI Responses API, stateless subset), served by an agent's chat
 * completions through the one proxied-route pipeline: the request is translated
 * (responses-request.ts), the answer rewritten by a tap (responses-answer.ts).
 * Errors keep OpenAI's shape.
 */
import { translatedEndpoint } from '../translated.js';
import { ResponsesAnswer } from './responses-answer.js';
import { parseResponsesRequest, responsesToChat, responsesTools } from './responses-request.js';

export const responsesEndpoint = translatedEndpoint('POST /v1/responses', {
  parse: parseResponsesRequest,
  tools: responsesTools,
  toChat: responsesToChat,
  answer: (request, requestId, promptTokens) => new ResponsesAnswer(requestId, request, promptTokens),
});

/**
 * `POST /v1/chat/completions`: the consumer's chat request goes to an agent as it is (fields the
 * relay does not check pass through), and the bridge's bytes come back untouched. Requests with
 * tools are the exception: translated, see chat-tools.ts. One endpoint, served by the node fast
 * path (consumer/fast-path.ts) and, when CORS is configured, by Hono (consumer/consumer-app.ts).
 */
import { type Prepared, proxied } from '../proxied-route.js';
import { usesTools } from './chat-request.js';
import { validateChatRequest } from './chat-schema.js';
import { chatWithTools } from './chat-tools.js';

/** The chat request an agent serves for a consumer's chat body. */
export function prepareChat(json: unknown, requestId: string): Prepared {
  const request = validateChatRequest(json);
  if (usesTools(request)) return chatWithTools(request, requestId);
  const stream = request.stream === true;
  // The bridge is sent one model: the fallback list stays here.
  const { models: fallbacks, ...rest } = request;
  return {
    model: request.model,
    fallbacks,
    stream,
    body: fallbacks ? rest : request,
    asSent: fallbacks === undefined,
    includeUsage: stream && request.stream_options?.include_usage === true,
  };
}

export const chatEndpoint = proxied('POST /v1/chat/completions', prepareChat);
